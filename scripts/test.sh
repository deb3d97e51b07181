#!/usr/bin/env bash
# The one command that runs every test of the project (the README promises it; .ci/run calls it).
# It installs what the tests need into project-local folders (.venv/, .scratch/) on first use:
#   1. the template checks: cfn-lint (+ serverless rules), checkov, sam validate --lint, events/;
#   2. `sam build` of every function (x86_64, SAM's debug mode: see scripts/sam-build.sh), whose
#      artifacts the end-to-end test deploys;
#   3. every Rust test of the workspace against a private ministack (DynamoDB, Streams,
#      EventBridge, SQS, Lambda, CloudFormation) on 127.0.0.1, stopped by PID when they end;
#   4. a short load test of the runner, in memory and on ministack, that fails on any error or
#      when the books do not balance afterwards (the full one: README, "Measuring");
#   5. lambda-bench --short (crates/bench): every function binary started through the bench's
#      Runtime API emulator, once with AWS out of reach and once against ministack;
#   6. the API fuzzed from its own OpenAPI document (Schemathesis, every phase and check) against
#      the local runner, bounded in time (scripts/fuzz-api.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "template checks"
./scripts/check-template.sh

step "sam build"
./scripts/sam-build.sh

step "tests"
# The function crates hold only mains (sam build above built them; clippy checks them): leaving
# them out of the test build saves linking twenty debug binaries a second time.
skip=()
for f in functions/*/; do skip+=(--exclude "$(basename "$f")"); done
if cargo nextest --version >/dev/null 2>&1; then
  runner=(cargo nextest run --workspace "${skip[@]}" --no-fail-fast)
else
  runner=(cargo test --workspace "${skip[@]}" --no-fail-fast)
fi
./scripts/with-ministack.sh "${runner[@]}"

step "load (short)"
cargo build --quiet -p local-runner --bin load
./scripts/with-ministack.sh sh -c 'target/debug/load --requests 2000 --customers 60 --concurrency 16 &&
  target/debug/load --dynamodb "$AWS_ENDPOINT_URL" --requests 800 --customers 40 --concurrency 8'

step "lambda bench, short (proves it runs; no number is checked)"
# Every function and bare-lambda in one dev build (without local-runner, whose features would
# change the functions' build), then 2 processes per binary, binary only and against ministack.
packages=(-p bench)
for f in functions/*/; do packages+=(-p "$(basename "$f")"); done
cargo build "${packages[@]}"
cargo build -p local-runner --bin local-aws
./scripts/with-ministack.sh target/debug/lambda-bench --profile dev --short --ministack --out .scratch/bench-short.md

step "API fuzzing"
./scripts/fuzz-api.sh
