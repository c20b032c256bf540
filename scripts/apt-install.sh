#!/usr/bin/env bash
# Installs from Debian those of the given packages that are not installed yet.
#   scripts/apt-install.sh <what they are for> <package>...
# Quiet when all is well (apt chatters on stderr even then); on failure it shows what apt said.
# Progress goes to stderr, so callers may keep stdout for their own output.
set -euo pipefail
purpose=$1
shift
missing=()
for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "Installing $purpose: ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if ! log=$($SUDO apt-get update -qq 2>&1 \
    && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" 2>&1); then
    echo "$log" >&2
    exit 1
fi
