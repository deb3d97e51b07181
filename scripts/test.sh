#!/usr/bin/env bash
# The one command that runs every test of the project (the README promises it; .ci/run calls it).
# It installs what the tests need into project-local folders (.venv/, .scratch/) on first use and
# runs the Rust tests against a private ministack (DynamoDB, EventBridge, SQS) on 127.0.0.1,
# stopped again by PID when the tests end, pass or fail.
set -euo pipefail
cd "$(dirname "$0")/.."

if cargo nextest --version >/dev/null 2>&1; then
  runner=(cargo nextest run --workspace --no-fail-fast)
else
  runner=(cargo test --workspace --no-fail-fast)
fi
./scripts/with-ministack.sh "${runner[@]}"
