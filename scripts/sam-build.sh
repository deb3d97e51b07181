#!/usr/bin/env bash
# Usage: scripts/sam-build.sh [--release] [extra sam build args...]
#
# `sam build` of template.yaml for ARCH (x86_64 by default: what this machine and ministack run
# natively; ARCH=arm64 for the template's default Lambda architecture), with cargo-lambda and zig
# from the project's tools venv. Artifacts land in .aws-sam/build.
#
# By default the functions are built in SAM's debug mode (SAM_BUILD_MODE=debug: cargo's dev
# profile), which is what the tests run. `--release` builds what a deployment ships (the release
# profile of Cargo.toml): first every function in one `cargo lambda build` (one dependency graph,
# two links at a time on two cores), then `sam build`, whose per-function `cargo lambda build
# --bin X` finds each binary fresh and only packages it.
set -euo pipefail
cd "$(dirname "$0")/.."

tools=$(scripts/venv.sh tools)
export PATH="$tools/bin:$PATH" SAM_CLI_TELEMETRY=0 AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1

arch=${ARCH:-x86_64}
case $arch in
  x86_64) arch_flag=() ;;
  arm64) arch_flag=(--arm64) ;;
  *) echo "sam-build: ARCH=$arch: x86_64 or arm64" >&2; exit 2 ;;
esac
start=$(date +%s)
if [[ ${1:-} == --release ]]; then
  shift
  unset SAM_BUILD_MODE
  # The same command line as SAM's (`--release`, the architecture, `--bin`, no package), so the
  # features and fingerprints match and SAM's own calls have nothing left to compile.
  bins=()
  for f in functions/*/; do bins+=(--bin "$(basename "$f")"); done
  cargo lambda build --release "${arch_flag[@]}" "${bins[@]}"
else
  export SAM_BUILD_MODE=debug
fi
sam build --parameter-overrides "Architecture=$arch" "$@"
if [[ ${SAM_BUILD_MODE:-} == debug ]] && command -v strip >/dev/null; then
  # Debug binaries carry ~20 MB of symbols each that only slow down packaging and deploying.
  strip .aws-sam/build/*/bootstrap
fi
echo "sam-build: $(($(date +%s) - start)) s (${SAM_BUILD_MODE:-release})"
