#!/usr/bin/env bash
# Usage: scripts/browser-tests.sh [--only JOURNEY...]
#
# The storefront's browser tests (tests/browser/journeys.py): Debian's headless Chromium
# (scripts/browser.sh installs it) driven by Playwright for Python (.venv/browser, hash-locked in
# scripts/requirements-browser.txt) against the local runner, which the test starts on a free
# 127.0.0.1 port and stops by PID. Every journey runs with the runner in memory; then the shopper
# journey runs again with the runner on DynamoDB, in a private ministack
# (scripts/with-ministack.sh). Screenshots and the runner's logs go to .scratch/browser/.
# scripts/test.sh runs this as its own step.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

./scripts/browser.sh >/dev/null
venv=$(./scripts/venv.sh browser)
cargo build --quiet -p local-runner --bin shop-local
runner="$root/target/debug/shop-local"

"$venv/bin/python" tests/browser/journeys.py --runner "$runner" "$@"
if [[ $# -eq 0 ]]; then
  # shellcheck disable=SC2016 # expanded by the inner shell, where with-ministack.sh set it
  ./scripts/with-ministack.sh bash -c '"$0" tests/browser/journeys.py --runner "$1" --dynamodb "$AWS_ENDPOINT_URL" --only shopper' \
    "$venv/bin/python" "$runner"
fi
