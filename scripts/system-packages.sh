#!/usr/bin/env bash
# Installs the Debian packages the project needs when they are missing (xmlsec1 for pysaml2).
set -euo pipefail
bash "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh" "system packages" xmlsec1
