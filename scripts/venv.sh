#!/usr/bin/env bash
# Usage: scripts/venv.sh NAME
#
# Ensures the project-local virtualenv .venv/NAME exists and has
# scripts/requirements-NAME.txt installed, then prints the venv's absolute
# path on stdout (so callers can do: VENV=$(scripts/venv.sh tools)).
#
# The .txt files are locks (scripts/lock-requirements.sh writes them from the
# .in files): every package, dependencies included, at one version with the
# SHA-256 of its files. pip installs them with --require-hashes, so a download
# that is not the file locked (a re-uploaded release, a substituted one) or a
# dependency the lock lacks stops the build instead of running.
#
# It (re)builds only when the venv is missing or the requirements file (or the
# python3 version) changed since the last successful install; a hash stamp
# inside the venv records that. Up to date: prints only the path. Building:
# one line on stderr; pip's output goes to .venv/NAME.install.log and is
# shown only on failure.
set -euo pipefail

name=${1:?usage: scripts/venv.sh NAME  (NAME = ministack | tools | ...)}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
req="$root/scripts/requirements-$name.txt"
pip_lock="$root/scripts/requirements-pip.txt"
venv="$root/.venv/$name"
stamp="$venv/.requirements.sha256"
log="$root/.venv/$name.install.log"

[[ -f $req ]] || { echo "venv.sh: no such file: $req" >&2; exit 2; }
mkdir -p "$root/.venv"

# The python version is part of the hash: a venv is tied to its interpreter.
want=$( { python3 -VV; cat "$pip_lock" "$req"; } | sha256sum | cut -d' ' -f1)

up_to_date() { [[ -x $venv/bin/python && -f $stamp && $(<"$stamp") == "$want" ]]; }

if ! up_to_date; then
  # Serialise concurrent callers (parallel test jobs) on one lock per venv;
  # re-check after taking it, another caller may have just built it.
  exec 9>"$root/.venv/.$name.lock"
  flock 9
  if ! up_to_date; then
    echo "venv.sh: building .venv/$name from scripts/requirements-$name.txt" >&2
    # Always start clean: pip never removes packages dropped from the file.
    rm -rf "$venv"
    # First the locked pip (the bundled one mishandles extras in a hash-checked install), then
    # the venv's lock with it.
    if ! { python3 -m venv "$venv" &&
           "$venv/bin/python" -m pip install --disable-pip-version-check \
             --no-input --require-hashes -r "$pip_lock" &&
           "$venv/bin/python" -m pip install --disable-pip-version-check \
             --no-input --require-hashes -r "$req"; } >"$log" 2>&1; then
      echo "venv.sh: FAILED to build .venv/$name; last lines of $log:" >&2
      tail -n 40 "$log" >&2
      rm -rf "$venv" # never leave a half-built venv that looks usable
      exit 1
    fi
    echo "$want" >"$stamp"
  fi
  exec 9>&-
fi

echo "$venv"
