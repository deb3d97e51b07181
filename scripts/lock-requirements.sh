#!/usr/bin/env bash
# Usage: scripts/lock-requirements.sh [NAME...]   (default: every scripts/requirements-*.in)
#
# Writes scripts/requirements-NAME.txt from scripts/requirements-NAME.in: every package the venv
# gets, its dependencies' dependencies included, pinned to one version with the SHA-256 of every
# file PyPI has for that version (all platforms), so that scripts/venv.sh can install with
# `pip install --require-hashes`: a file that is not byte for byte the one locked here (a
# re-uploaded or tampered release, a mirror's substitute) is refused instead of run. The .in
# files hold the top-level pins and the reasons for them; the .txt files are generated, never
# edited by hand.
#
# To update a tool: change its pin in the .in file, run this script for that venv, review the
# diff of the .txt (new packages, new versions) and commit both. Re-running with unchanged .in
# files keeps every pin (pip-compile keeps what the .txt already holds).
#
# The lock is resolved for the python3 on PATH (CPython 3.11, as the README asks): dependencies
# that other Python versions or Windows alone need are not in it. pip-tools runs from a scratch
# venv (.scratch/pip-tools), never from the venvs it locks. Needs PyPI; nothing else.
#
# --check changes nothing and needs no network: every .in has its .txt, every package of a .txt
# is pinned with `==` and at least one sha256, and every pin of a .in is in its .txt at that
# version (an .in edited without running this script fails here, rather than leaving the venvs
# built from the old lock).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root/scripts"

if [[ ${1:-} == --check ]]; then
  exec python3 - requirements-*.in <<'PY'
import re, sys
from pathlib import Path

def name(n):
    return re.sub(r"[-_.]+", "-", n).lower()

REQ = re.compile(r"^([A-Za-z0-9._-]+)(\[[^\]]*\])?==(\S+)")
problems = []
for src in map(Path, sys.argv[1:]):
    lock, venv = src.with_suffix(".txt"), src.stem.removeprefix("requirements-")
    if not lock.exists():
        problems.append(f"{src}: no {lock.name} (run scripts/lock-requirements.sh {venv})")
        continue
    pinned, current = {}, None
    for line in lock.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.startswith(" "):
            if current and line.strip().startswith("--hash=sha256:"):
                pinned[current][1] += 1
            continue
        m = REQ.match(line)
        current = name(m.group(1)) if m else None
        if m:
            pinned[current] = [m.group(3), 0]
        else:
            problems.append(f"{lock}: not a pinned requirement: {line}")
    problems += [f"{lock}: {n}=={v} has no sha256" for n, (v, hashes) in pinned.items() if hashes == 0]
    for line in src.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        m = REQ.match(line)
        if line and not m:
            problems.append(f"{src}: pin top-level packages with ==: {line}")
        elif m and pinned.get(name(m.group(1)), [None])[0] != m.group(3):
            problems.append(f"{src}: {line} is not what {lock.name} locks (run scripts/lock-requirements.sh {venv})")
for p in problems:
    print(f"lock-requirements --check: {p}", file=sys.stderr)
sys.exit(1 if problems else 0)
PY
fi

pip_tools_version=7.6.2
tools="$root/.scratch/pip-tools"
if [[ ! -x $tools/bin/pip-compile ]] || [[ $("$tools/bin/pip-compile" --version) != *" $pip_tools_version" ]]; then
  rm -rf "$tools"
  python3 -m venv "$tools"
  "$tools/bin/python" -m pip install --quiet --disable-pip-version-check "pip-tools==$pip_tools_version"
fi

names=("$@")
if ((${#names[@]} == 0)); then
  for f in requirements-*.in; do names+=("$(basename "${f#requirements-}" .in)"); done
fi
for name in "${names[@]}"; do
  [[ -f requirements-$name.in ]] || { echo "lock-requirements: no scripts/requirements-$name.in" >&2; exit 2; }
  echo "lock-requirements: scripts/requirements-$name.txt" >&2
  # --allow-unsafe: pip and setuptools are pinned and hashed like the rest when something needs
  # them, or --require-hashes would refuse the install. PyPI only: a machine's own pip settings
  # (a find-links folder, another index) neither feed the lock nor end up in it. The header names
  # this script, not the pip-compile command line with its scratch paths.
  env -u PIP_FIND_LINKS -u PIP_INDEX_URL -u PIP_EXTRA_INDEX_URL \
    CUSTOM_COMPILE_COMMAND="scripts/lock-requirements.sh $name" \
    "$tools/bin/pip-compile" --quiet --generate-hashes --allow-unsafe --no-strip-extras \
    --no-emit-index-url --no-emit-find-links --index-url https://pypi.org/simple \
    --output-file "requirements-$name.txt" "requirements-$name.in"
done
