#!/usr/bin/env bash
# Usage: scripts/benchmarks.sh            BENCHMARKS.md and docs/benchmarks.svg, measured here
#        scripts/benchmarks.sh --short    the same pipeline, quickly (dev build, few runs), into
#                                         .scratch/: proves it works (the test command runs it)
#
# 1. every function and bare-lambda built in one cargo run with BENCH_PROFILE (default release:
#    what `sam build` ships; about two minutes cold on 2 cores), plus
#    local-aws (dev) and the load generator;
# 2. lambda-bench: init, idle RSS, zip, first and warm invocations of every function against the
#    bare binary, binary only and against a private ministack (scripts/with-ministack.sh);
# 3. the request counts of every operation (the events replay against ministack);
# 4. the load test, in memory and on ministack, books checked;
# 5. the modelled flash sale against K (flash-model: DynamoDB's per-item limits, virtual clock);
# 6. benchmarks-report: BENCHMARKS.md (with the cost model per 1,000 orders) and the chart.
# The full run also times a cold release `sam build` (scripts/sam-build.sh --release, empty target
# dir) for the report's build target; --short does not (CI's test step has just run one).
# Everything runs on 127.0.0.1; processes are stopped by PID.
set -euo pipefail
cd "$(dirname "$0")/.."

short=false
[[ ${1:-} == --short ]] && short=true
profile=${BENCH_PROFILE:-release}
out=BENCHMARKS.md svg=docs/benchmarks.svg work=.scratch/benchmarks
runs=() load_requests=20000 load_dynamo_requests=3000
flash_svg=docs/flash-model.svg flash=(--shards 1,2,4,8,16 --rate 5000 --seconds 10 --buyers 500)
if $short; then
  profile=dev out=.scratch/BENCHMARKS-short.md svg=.scratch/benchmarks-short.svg work=.scratch/benchmarks-short
  runs=(--short) load_requests=1000 load_dynamo_requests=300
  flash_svg=.scratch/flash-model-short.svg flash=(--shards 1,8 --rate 1000 --seconds 1 --buyers 20)
fi
# BENCH_TARGET_DIR builds the measured binaries apart (e.g. with CARGO_PROFILE_RELEASE_LTO=off and
# friends to measure another profile); the label names any such override.
target=${BENCH_TARGET_DIR:-target}
dir=$target/$([[ $profile == dev ]] && echo debug || echo "$profile")
label=$profile
overrides=$(env | sed -n 's/^CARGO_PROFILE_[A-Z]*_\([A-Z_]*\)=\(.*\)/\1=\2/p' | tr 'A-Z_' 'a-z-' | paste -sd, -)
[[ -n $overrides ]] && label="$profile ($overrides)"
rm -rf "$work" && mkdir -p "$work"

step() { printf '\n== benchmarks: %s\n' "$*"; }

step "build ($profile)"
packages=(-p lambda-bench)
for f in functions/*/; do packages+=(-p "$(basename "$f")"); done
start=$(date +%s)
CARGO_TARGET_DIR=$target cargo build --profile "$profile" "${packages[@]}"
build_s=$(($(date +%s) - start))
cargo build -p local-runner --bin local-aws
CARGO_TARGET_DIR=$target cargo build --profile "$profile" -p load --bin load
CARGO_TARGET_DIR=$target cargo build --profile "$profile" -p simulation --bin flash-model

sam_build=()
if ! $short; then
  step "release sam build, cold (scripts/sam-build.sh --release in an empty target dir)"
  sam_target=$target/bench-sam-build
  rm -rf "$sam_target"
  start=$(date +%s)
  CARGO_TARGET_DIR=$sam_target ./scripts/sam-build.sh --release
  sam_build=(--sam-build-s "$(($(date +%s) - start))")
  rm -rf "$sam_target"
fi

step "lambda-bench"
./scripts/with-ministack.sh "$dir/lambda-bench" --profile "$profile" --bin-dir "$dir" "${runs[@]}" --ministack \
  --local-aws target/debug/local-aws --out "$work/lambda-bench.md" --json "$work/lambda-bench.json" --logs "$work/logs"

step "requests per operation"
# BENCH_REQUEST_COUNTS: a request-counts.json the events replay has just written (the test command
# ran it a moment ago), instead of running it again.
if [[ -n ${BENCH_REQUEST_COUNTS:-} ]]; then
  cp "$BENCH_REQUEST_COUNTS" "$work/request-counts.json"
elif cargo nextest --version >/dev/null 2>&1; then
  ./scripts/with-ministack.sh cargo nextest run -p system-tests --test events_replay
else
  ./scripts/with-ministack.sh cargo test -p system-tests --test events_replay
fi
[[ -f $work/request-counts.json ]] || cp target/tmp/request-counts.json "$work/request-counts.json"

step "load"
./scripts/with-ministack.sh sh -c "$dir/load --requests $load_requests --customers 200 --concurrency 32 --json $work/load-memory.json &&
  $dir/load --dynamodb \"\$AWS_ENDPOINT_URL\" --requests $load_dynamo_requests --customers 100 --concurrency 16 --json $work/load-dynamodb.json"

step "modelled flash sale"
"$dir/flash-model" "${flash[@]}" --json "$work/flash-model.json"

step "report"
cat >"$work/builds.md" <<MD
This run's build of every function and bare-lambda in one cargo invocation with profile \`$label\`: **${build_s} s** (incremental if the target dir held an earlier build). Cold builds from \`cargo clean\`, profile by profile, and why the release profile is what it is: [docs/release-build.md](docs/release-build.md).
MD
"$dir/benchmarks-report" --out "$out" --svg "$svg" --bench "$work/lambda-bench.json" --logs "$work/logs" \
  --requests "$work/request-counts.json" --load "$work/load-memory.json" --load "$work/load-dynamodb.json" \
  --builds "$work/builds.md" --targets-notes docs/targets.md "${sam_build[@]}" \
  --flash-model "$work/flash-model.json" --flash-svg "$flash_svg" --profile "$label" --commit "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" --date "$(date -u +%F)"
