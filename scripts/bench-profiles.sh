#!/usr/bin/env bash
# Usage: scripts/bench-profiles.sh NAME:LTO:CGU:OPT [NAME:LTO:CGU:OPT ...]
#   e.g. scripts/bench-profiles.sh thin-s-16:thin:16:s fat-z-1:fat:1:z
#
# The build-time side of the release profile: for each combination, one cold `cargo build
# --release` of every function and of the bench crate (bare-lambda) in one invocation, in a
# target dir of its own (target/profiles/NAME, so nothing is reused between combinations), with
# the profile overridden through CARGO_PROFILE_RELEASE_{LTO,CODEGEN_UNITS,OPT_LEVEL}. Appends one
# tab-separated line per combination to target/profiles/builds.tsv: name, lto, codegen-units,
# opt-level, wall seconds, the load average when it started. Then measure the binaries with
#   lambda-bench --bin-dir target/profiles/NAME/release --profile release-NAME --out ...
# Builds run under `nice -n 19`, so wall times on a shared machine include others' work.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $# -gt 0 ]] || { sed -n '2,3p' "$0" >&2; exit 2; }

packages=(-p lambda-bench)
for f in functions/*/; do packages+=(-p "$(basename "$f")"); done
mkdir -p target/profiles
for combo in "$@"; do
  IFS=: read -r name lto cgu opt <<<"$combo"
  [[ -n $name && -n $lto && -n $cgu && -n $opt ]] || { echo "bench-profiles: bad combination $combo" >&2; exit 2; }
  dir=target/profiles/$name
  rm -rf "$dir"
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  start=$(date +%s.%N)
  CARGO_TARGET_DIR=$dir CARGO_PROFILE_RELEASE_LTO=$lto CARGO_PROFILE_RELEASE_CODEGEN_UNITS=$cgu \
    CARGO_PROFILE_RELEASE_OPT_LEVEL=$opt nice -n 19 cargo build --release --quiet "${packages[@]}"
  end=$(date +%s.%N)
  secs=$(echo "$end - $start" | bc)
  printf '%s\t%s\t%s\t%s\t%.0f\t%s\n' "$name" "$lto" "$cgu" "$opt" "$secs" "$load" | tee -a target/profiles/builds.tsv
done
