#!/usr/bin/env bash
# Usage: scripts/sam-build.sh [--release] [extra sam build args...]
#
# `sam build` of template.yaml for x86_64 (what this machine and ministack run natively), with
# cargo-lambda and zig from the project's tools venv. Artifacts land in .aws-sam/build.
#
# By default the functions are built in SAM's debug mode (SAM_BUILD_MODE=debug: cargo's dev
# profile): the tests only need binaries that behave like the release ones, and a release build
# of twenty LTO binaries takes ~1 min each on 2 cores. `--release` builds exactly what
# `sam build` ships (the release profile of Cargo.toml), for a deployment or to measure.
set -euo pipefail
cd "$(dirname "$0")/.."

tools=$(scripts/venv.sh tools)
export PATH="$tools/bin:$PATH" SAM_CLI_TELEMETRY=0 AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1

if [[ ${1:-} == --release ]]; then
  shift
  unset SAM_BUILD_MODE
else
  export SAM_BUILD_MODE=debug
fi
start=$(date +%s)
sam build --parameter-overrides Architecture=x86_64 "$@"
if [[ ${SAM_BUILD_MODE:-} == debug ]] && command -v strip >/dev/null; then
  # Debug binaries carry ~20 MB of symbols each that only slow down packaging and deploying.
  strip .aws-sam/build/*/bootstrap
fi
echo "sam-build: $(($(date +%s) - start)) s (${SAM_BUILD_MODE:-release})"
