#!/usr/bin/env bash
# Usage: scripts/fuzz-api.sh            fuzz the local runner (in memory), started and stopped here
#        TOKEN=<admin access token> scripts/fuzz-api.sh https://<api-id>.execute-api.<region>.amazonaws.com
#
# Schemathesis (pinned in scripts/requirements-contracts.txt) generates requests from
# docs/openapi.json, in every phase (the document's examples, coverage of each schema's edges,
# random fuzzing, and stateful sequences along the document's links: register a customer, then
# order, read and cancel; add a product, then restock it), and runs every check (no server error;
# status code, content type, headers and body as documented; schema-valid data accepted,
# schema-violating data refused). tests/schemathesis.toml holds the settings and the few declared
# answers a request's schema cannot foresee, each with its reason.
#
# Locally it starts `shop-local` on a free 127.0.0.1 port, takes the admin token its development
# identity provider prints, and stops it by PID at the end; the run fails on any failure and when
# the runner served fewer than FUZZ_MIN_REQUESTS (1000) requests. FUZZ_SEED=<n> replays a run
# (the seed is printed). Against a deployed stack, API Gateway answers a missing or bad token
# with its own 401 body (not problem+json), which the checks report.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
venv=$(scripts/venv.sh contracts)
work="$root/.scratch/schemathesis"
mkdir -p "$work"
# tests/schemathesis_hooks.py: rules of the API that JSON Schema cannot state (one line per product).
export PYTHONPATH="$root/tests${PYTHONPATH:+:$PYTHONPATH}" SCHEMATHESIS_HOOKS=schemathesis_hooks
args=(--config-file "$root/tests/schemathesis.toml" run --max-time "${FUZZ_MAX_TIME:-150}"
      --report junit --report-dir "$work")
[[ -n ${FUZZ_SEED:-} ]] && args+=(--seed "$FUZZ_SEED")

# The fuzzing identity (an admin) registers itself as a customer (once; a 409 says it already
# is), so `GET /me` answers and its links lead the stateful phase to its customer, its history and
# orders it may place. Its customer id and the catalogue's product ids go into the dictionaries
# tests/schemathesis.toml draws `customerId` and `productId` from half of the time, so generated
# orders reach the saga instead of stopping at 403 or 422.
prepare() { # BASE_URL TOKEN
  local base=$1 auth="Authorization: Bearer $2"
  curl -s -o /dev/null -X POST "$base/customers" -H "$auth" -H 'content-type: application/json' \
    -d '{"name":"Fuzz Admin","address":{"street":"1 Test St","city":"Springfield","region":"IL","postalCode":"62701","country":"US"}}'
  curl -sf "$base/me" -H "$auth" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["id"]))' \
    >"$work/customers.dict" || { echo "fuzz-api: the fuzzing identity has no customer" >&2; return 1; }
  curl -sf "$base/products?limit=100" | python3 -c 'import json,sys; [print(json.dumps(p["id"])) for p in json.load(sys.stdin)["items"]]' \
    >"$work/products.dict" || { echo "fuzz-api: cannot list the catalogue" >&2; return 1; }
  # A dictionary may not be empty: with no catalogue, an id nothing knows.
  [[ -s $work/products.dict ]] || echo '"00000000-0000-4000-8000-000000000000"' >"$work/products.dict"
}

if [[ $# -ge 1 ]]; then
  : "${TOKEN:?set TOKEN to an admin's access token of the stack's user pool}"
  prepare "${1%/}" "$TOKEN"
  cd "$work"
  exec "$venv/bin/st" "${args[@]}" "$root/docs/openapi.json" --url "$1" -H "Authorization: Bearer $TOKEN"
fi

cargo build --quiet -p local-runner --bin shop-local
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log="$work/runner.log"
NO_COLOR=1 PORT=$port target/debug/shop-local >"$log" 2>&1 &
runner=$!
trap 'kill "$runner" 2>/dev/null || true; wait "$runner" 2>/dev/null || true' EXIT
token=
for _ in $(seq 100); do
  token=$(sed -n 's/.*ADMIN_TOKEN=\([^ ]*\).*/\1/p' "$log" | head -n1)
  [[ -n $token ]] && break
  kill -0 "$runner" 2>/dev/null || { echo "fuzz-api: the runner stopped:" >&2; cat "$log" >&2; exit 1; }
  sleep 0.1
done
[[ -n $token ]] || { echo "fuzz-api: the runner printed no admin token" >&2; cat "$log" >&2; exit 1; }

prepare "http://127.0.0.1:$port" "$token"
cd "$work"
status=0
"$venv/bin/st" "${args[@]}" "http://127.0.0.1:$port/openapi.json" -H "Authorization: Bearer $token" || status=$?
served=$(grep -c ' request ' "$log" || true)
echo "fuzz-api: the runner served $served requests"
if ((status == 0 && served < ${FUZZ_MIN_REQUESTS:-1000})); then
  echo "fuzz-api: fewer than ${FUZZ_MIN_REQUESTS:-1000} requests reached the runner's handlers" >&2
  status=1
fi
exit "$status"
