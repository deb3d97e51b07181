#!/usr/bin/env bash
# The one command that runs every test of the project (the README promises it; .ci/run calls it).
# It installs what the tests need into project-local folders (.venv/, .scratch/) on first use.
set -euo pipefail
cd "$(dirname "$0")/.."

if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
else
  cargo test --workspace --no-fail-fast
fi
