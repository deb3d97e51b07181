#!/usr/bin/env bash
# Usage: scripts/with-ministack.sh CMD [ARGS...]
#
# Starts a private ministack (local AWS emulator) on a free 127.0.0.1 port,
# runs CMD against it, then stops ministack and every process it started
# (Lambda bootstraps). Exits with CMD's exit code.
#
# CMD sees: AWS_ENDPOINT_URL=http://127.0.0.1:PORT, AWS_ACCESS_KEY_ID=test,
# AWS_SECRET_ACCESS_KEY=test, AWS_REGION=AWS_DEFAULT_REGION=us-east-1,
# MINISTACK_PORT, MINISTACK_PID, MINISTACK_SCRATCH (log: $MINISTACK_SCRATCH/ministack.log).
#
# Scratch dir .scratch/ministack-PORT holds ministack's TMPDIR (unpacked Lambda
# code, pid file) and its log. It is deleted when CMD succeeds, kept (and its
# path printed) when CMD fails; MINISTACK_KEEP_SCRATCH=1 always keeps it.
# MINISTACK_START_TIMEOUT (seconds, default 30) bounds the wait for health.
# SC2329: shellcheck 0.11 thinks functions only called from traps are unused.
# shellcheck disable=SC2329
set -euo pipefail

[[ $# -gt 0 ]] || { echo "usage: scripts/with-ministack.sh CMD [ARGS...]" >&2; exit 2; }

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=$("$root/scripts/venv.sh" ministack)
timeout_s=${MINISTACK_START_TIMEOUT:-30}

pid="" scratch="" rc=1

# Is PID running? `kill -0` also succeeds on a zombie we have not reaped yet.
alive() {
  local st
  st=$(ps -o stat= -p "$1") && [[ $st != Z* ]]
}

# Any live (non-zombie) process left in ministack's group? ministack itself
# stays a zombie until we `wait` for it, so `kill -0` cannot tell.
group_alive() {
  ps -eo pgid=,stat= | awk -v g="$pid" '$1 == g && $2 !~ /^Z/ { found = 1 } END { exit !found }'
}

stop_ministack() {
  [[ -n $pid ]] || return 0
  # ministack was started by setsid, so its PID is also its process-group id;
  # the group holds ministack and the Lambda bootstraps it spawned, nothing else.
  kill -TERM -- "-$pid" 2>/dev/null || true
  for _ in {1..50}; do # up to 5 s for a clean stop, then SIGKILL
    group_alive || break
    sleep 0.1
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
}

cleanup() {
  rc=$?
  stop_ministack
  if [[ -n $scratch && -d $scratch ]]; then
    if [[ $rc -eq 0 && ${MINISTACK_KEEP_SCRATCH:-0} != 1 ]]; then
      rm -rf "$scratch"
    else
      echo "with-ministack.sh: ministack log kept in $scratch/ministack.log" >&2
    fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Free port: bind port 0 and release it. Another process could grab it before
# ministack binds, so a failed start is retried on a fresh port.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

for attempt in 1 2 3; do
  port=$(free_port)
  scratch="$root/.scratch/ministack-$port"
  rm -rf "$scratch" && mkdir -p "$scratch"
  # AWS_ENDPOINT_URL in ministack's own environment is what the SDK inside each
  # Lambda uses to call back into ministack (it overrides the function's value).
  # LAMBDA_EXECUTOR=local (also ministack's default) runs provided.al2023
  # `bootstrap` binaries as plain child processes: no Docker needed.
  # Non-interactive bash starts `&` jobs in our own group, so setsid does not
  # fork: $! is ministack's PID and the id of its new process group.
  # MINISTACK_HOST: where ministack reaches itself (its API Gateway fetches a user pool's JWKS
  # from its own Cognito): 127.0.0.1, the address it listens on, not "localhost".
  env GATEWAY_PORT="$port" BIND_HOST=127.0.0.1 MINISTACK_HOST=127.0.0.1 TMPDIR="$scratch" \
    LAMBDA_EXECUTOR=local AWS_ENDPOINT_URL="http://127.0.0.1:$port" \
    AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
    AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 \
    setsid "$venv/bin/ministack" </dev/null >"$scratch/ministack.log" 2>&1 &
  pid=$!

  deadline=$((SECONDS + timeout_s))
  until curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/_ministack/health" 2>/dev/null; do
    if ! alive "$pid"; then
      echo "with-ministack.sh: ministack exited during start-up (attempt $attempt, port $port):" >&2
      tail -n 20 "$scratch/ministack.log" >&2
      wait "$pid" 2>/dev/null || true
      pid=""
      continue 2 # most likely lost the port race: retry on a fresh port
    fi
    if ((SECONDS >= deadline)); then
      echo "with-ministack.sh: ministack not healthy after ${timeout_s}s on port $port; log tail:" >&2
      tail -n 40 "$scratch/ministack.log" >&2
      exit 1
    fi
    sleep 0.1
  done
  break
done
[[ -n $pid ]] || { echo "with-ministack.sh: could not start ministack" >&2; exit 1; }
# Checked only now: right after `&` the child may not have called setsid yet.
if [[ $(ps -o pgid= -p "$pid" | tr -d ' ') != "$pid" ]]; then
  echo "with-ministack.sh: ministack (PID $pid) has no process group of its own" >&2
  exit 1
fi

export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
  AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 \
  MINISTACK_PID="$pid" MINISTACK_PORT="$port" MINISTACK_SCRATCH="$scratch"
# Real credentials/profile must never leak into tests.
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_SECURITY_TOKEN

# Run CMD in the background and `wait` for it: unlike a foreground command,
# `wait` returns at once when this script gets a signal, so `timeout` or a CI
# runner's SIGTERM is acted on (and forwarded to CMD) instead of waiting for
# CMD to finish. The subshell undoes bash's SIGINT/SIGQUIT-ignore for
# background jobs (so Ctrl-C still reaches CMD), and <&0 keeps our stdin.
( trap - INT QUIT; exec "$@" ) <&0 &
cmd_pid=$!
# Waits up to $1 tenths of a second for CMD to exit; false if it is still running.
cmd_exits_within() {
  for ((i = 0; i < $1; i++)); do
    alive "$cmd_pid" || return 0
    sleep 0.1
  done
  ! alive "$cmd_pid"
}
on_signal() { # $1 = signal to forward, $2 = exit code
  # A terminal's Ctrl-C already reached CMD (same process group): give it 1 s
  # before sending a second SIGINT. bash defers a repeated signal while its
  # trap runs, so escalate by time: CMD gets 10 s, then SIGKILL.
  if [[ $1 != INT ]] || ! cmd_exits_within 10; then
    kill -"$1" "$cmd_pid" 2>/dev/null || true
    cmd_exits_within 100 || true
  fi
  kill -KILL "$cmd_pid" 2>/dev/null || true
  exit "$2"
}
trap 'on_signal INT 130' INT
trap 'on_signal TERM 143' TERM
set +e
wait "$cmd_pid"
rc=$?
set -e
exit "$rc"
