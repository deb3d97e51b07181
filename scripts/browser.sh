#!/usr/bin/env bash
# Usage: scripts/browser.sh
#
# Ensures Debian's headless-capable Chromium and its driver are installed (/usr/bin/chromium,
# /usr/bin/chromedriver) for the browser tests, and prints the browser's path. Idempotent: when
# both are there it installs nothing. A browser that a test tool downloads for itself cannot be
# had on the machines this project is tested on (their network reaches package registries only),
# so the tests drive this one (Playwright's `executable_path`).
set -euo pipefail
if [[ ! -x /usr/bin/chromium || ! -x /usr/bin/chromedriver ]]; then
  echo "browser.sh: installing Debian's chromium and chromium-driver" >&2
  sudo=()
  [[ $(id -u) == 0 ]] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get install -y --no-install-recommends chromium chromium-driver >&2 ||
    { "${sudo[@]}" apt-get update >&2 && "${sudo[@]}" apt-get install -y --no-install-recommends chromium chromium-driver >&2; }
fi
echo /usr/bin/chromium
