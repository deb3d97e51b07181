#!/usr/bin/env bash
# Usage: scripts/local-aws.sh [CMD [ARGS...]]
#
# One function, locally, for real. Starts a private ministack on 127.0.0.1 (through
# scripts/with-ministack.sh), creates the stack's tables and event bus in it, seeds the customer,
# products and PENDING order that events/*.json refer to, and prints the environment a function
# needs (endpoint, region, dummy credentials, every variable a function reads), also writing it
# to .scratch/local-aws.env (LOCAL_AWS_ENV_FILE to change it) for `cargo lambda watch --env-file`,
# as KEY='VALUE' lines that bash reads alike (the format: bundle::config::env_lines).
# The work is done by the local-aws binary of crates/local-runner.
#
# With CMD: runs CMD with that environment exported, and exits with its exit code.
# Without: prints how to invoke a function with its event file, and waits until Ctrl-C.
# Either way ministack (and every process it started) is then stopped by process group, and the
# env file, which names ministack's port, is removed.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
env_file=${LOCAL_AWS_ENV_FILE:-$root/.scratch/local-aws.env}

if [[ ${1:-} != --inside-ministack ]]; then
  # Build first: a compile error shows before ministack starts, and the first (slow) build does
  # not run while ministack waits.
  cargo build -p local-runner --bin local-aws
  trap 'rm -f "$env_file"' EXIT
  LOCAL_AWS_ENV_FILE=$env_file scripts/with-ministack.sh "$root/scripts/local-aws.sh" --inside-ministack "$@"
  exit 0
fi
shift

# Inside with-ministack.sh: AWS_ENDPOINT_URL names the private ministack.
unset LOCAL_AWS_ENV_FILE
cargo run --quiet -p local-runner --bin local-aws -- --endpoint "$AWS_ENDPOINT_URL" --env-file "$env_file"
set -a
# shellcheck source=/dev/null
. "$env_file"
set +a

if [[ $# -gt 0 ]]; then
  exec "$@"
fi

shown=${env_file#"$root/"}
cat <<EOF

That environment is in $shown. In another terminal, from $root:

  PATH="\$(scripts/venv.sh tools)/bin:\$PATH"
  cargo lambda watch --env-file $shown --invoke-address 127.0.0.1 &
  until curl -s -o /dev/null http://127.0.0.1:9000; do sleep 0.2; done   # until it listens
  cargo lambda invoke get-order --data-file events/get-order.json --invoke-address 127.0.0.1

Any function with any file of events/: cargo lambda invoke FUNCTION --data-file events/FILE.json
--invoke-address 127.0.0.1. Restart 'cargo lambda watch' whenever this script restarts: the
port in the environment changes.

ministack serves at $AWS_ENDPOINT_URL until Ctrl-C (its tables go with it).
EOF
while true; do
  sleep 3600
done
