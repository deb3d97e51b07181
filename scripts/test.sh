#!/usr/bin/env bash
# The one command that runs every test of the project (the README promises it; .ci/run calls it).
# It installs what the tests need into project-local folders (.venv/, .scratch/) on first use:
#   1. the template checks: cfn-lint (+ serverless rules), checkov, sam validate --lint, events/;
#      and the dependency policy (deny.toml: licenses, bans, sources; with CHECK_ADVISORIES=1 the
#      RustSec advisories too, which needs network to github.com: scripts/deny.sh), and the
#      Python locks agree with their pins (scripts/lock-requirements.sh --check);
#   2. the release `sam build` of every function (x86_64, what a deployment ships: see
#      scripts/sam-build.sh), whose artifacts the end-to-end test deploys;
#   3. every Rust test of the workspace against a private ministack (DynamoDB, Streams,
#      EventBridge, SQS, Lambda, CloudFormation) on 127.0.0.1, stopped by PID when they end;
#   4. scripts/benchmarks.sh --short: every function binary started through lambda-bench's Runtime
#      API emulator (AWS out of reach, then against ministack), the request counts, a short load
#      test of the runner in memory and on ministack that fails on any error or unbalanced books,
#      and the report, into .scratch/ (the full run writes BENCHMARKS.md: docs/PERFORMANCE.md);
#   5. the API fuzzed from its own OpenAPI document (Schemathesis, every phase and check) against
#      the local runner, bounded in time (scripts/fuzz-api.sh);
#   6. the storefront in a real browser (Debian's headless Chromium driven by Playwright for
#      Python): every journey against the runner in memory, the shopper's again on DynamoDB in a
#      private ministack (scripts/browser-tests.sh; docs/STOREFRONT.md);
#   7. every shell block of README.md and docs/*.md run as written, in a scratch copy
#      (scripts/run-docs.py; docs/TESTING.md, "The docs run as written", says how blocks are marked).
#      Last: by now every build it needs is in target/.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "template checks"
./scripts/check-template.sh

step "dependency policy (cargo deny; the Python locks)"
if [[ ${CHECK_ADVISORIES:-0} == 1 ]]; then ./scripts/deny.sh --advisories; else ./scripts/deny.sh; fi
./scripts/lock-requirements.sh --check

step "sam build (release)"
./scripts/sam-build.sh --release

step "tests"
# The function crates hold only mains (sam build above built them; clippy checks them): leaving
# them out of the test build saves linking each function's debug binary a second time.
skip=()
for f in functions/*/; do skip+=(--exclude "$(basename "$f")"); done
# The docs run subsets with `cargo nextest`: after this command, a fresh clone has it too.
if ! cargo nextest --version >/dev/null 2>&1; then
  echo "test: installing cargo-nextest (once; the docs' subset commands use it)"
  cargo install --locked cargo-nextest
fi
./scripts/with-ministack.sh cargo nextest run --workspace "${skip[@]}" --no-fail-fast

step "benchmarks, short (proves the pipeline; no number is checked, the load test's books are)"
# The events replay of the step above wrote the request counts; the pipeline reuses them.
BENCH_REQUEST_COUNTS=target/tmp/request-counts.json ./scripts/benchmarks.sh --short

step "API fuzzing"
./scripts/fuzz-api.sh

step "the storefront in a real browser"
./scripts/browser-tests.sh

step "the docs' shell blocks, as written"
./scripts/run-docs.py
