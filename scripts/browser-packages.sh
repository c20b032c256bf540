#!/usr/bin/env bash
# Installs Debian's Chromium (and a font so text renders) for the browser tests, when missing.
set -euo pipefail
[ -x /usr/bin/chromium ] && exit 0
packages=(chromium fonts-dejavu-core)
echo "Installing browser packages: ${packages[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
# apt chatters on stderr even when all is well (debconf notes): show its output only on failure.
if ! log=$($SUDO apt-get update -qq 2>&1 \
    && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${packages[@]}" 2>&1); then
    echo "$log" >&2
    exit 1
fi
