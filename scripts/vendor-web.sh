#!/usr/bin/env bash
# Usage: scripts/vendor-web.sh
#
# Reproduces the web files vendored into the repository from the npm registry, at the versions
# (and integrity hashes) of scripts/web-vendor/package-lock.json:
#   - Swagger UI (swagger-ui-dist) → crates/storefront/site/vendor/swagger-ui/, served at /docs;
#   - axe-core → tests/browser/vendor/axe-core/, injected by the browser tests for their
#     accessibility scan (never served).
# Each folder gets the package's LICENSE and a VERSION file. Install scripts are not run (the
# only one, swagger-ui-dist's @scarf/scarf, is download telemetry). Node is needed only here:
# nothing runs it at run time or in the tests. To update: change a version in
# scripts/web-vendor/package.json, run `npm install --package-lock-only --ignore-scripts` there,
# then this script, and review the diff.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work="$root/.scratch/web-vendor"
rm -rf "$work"
mkdir -p "$work"
cp "$root/scripts/web-vendor/package.json" "$root/scripts/web-vendor/package-lock.json" "$work/"
(cd "$work" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)

copy() { # package destination file...
  local pkg=$1 dest=$2
  shift 2
  rm -rf "$dest"
  mkdir -p "$dest"
  for f in "$@" LICENSE; do cp "$work/node_modules/$pkg/$f" "$dest/"; done
  node -p "require('$work/node_modules/$pkg/package.json').name + '@' + require('$work/node_modules/$pkg/package.json').version" >"$dest/VERSION"
}
copy swagger-ui-dist "$root/crates/storefront/site/vendor/swagger-ui" swagger-ui-bundle.js swagger-ui.css
copy axe-core "$root/tests/browser/vendor/axe-core" axe.min.js
echo "vendor-web: $(cat "$root/crates/storefront/site/vendor/swagger-ui/VERSION"), $(cat "$root/tests/browser/vendor/axe-core/VERSION")"
