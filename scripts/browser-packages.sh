#!/usr/bin/env bash
# Installs Debian's Chromium (and a font so text renders) for the browser tests, when missing.
set -euo pipefail
bash "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh" "browser packages" chromium fonts-dejavu-core
