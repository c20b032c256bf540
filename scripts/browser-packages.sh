#!/usr/bin/env bash
# Installs what the browser tests need, when missing: Debian's Chromium (and a font so text
# renders), and the npm package axe-core, pinned by scripts/browser/axe/package-lock.json, that
# the browser tests run in every page they check (tests/fixtures/browser.py).
# Quiet when all is well; on failure it shows what apt or npm said.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$here/apt-install.sh" "browser packages" chromium fonts-dejavu-core

# npm keeps a copy of the lock it installed in node_modules/.package-lock.json: reinstall when
# there is none or the committed lock is newer.
axe="$here/browser/axe"
if [ ! -f "$axe/node_modules/.package-lock.json" ] \
    || [ "$axe/package-lock.json" -nt "$axe/node_modules/.package-lock.json" ]; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "npm is missing: install Node.js (20) and npm" >&2
        exit 1
    fi
    echo "Installing axe-core (npm ci in scripts/browser/axe)"
    if ! log=$(cd "$axe" && npm ci --no-audit --no-fund --loglevel=error 2>&1); then
        echo "$log" >&2
        exit 1
    fi
fi
