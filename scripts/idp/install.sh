#!/usr/bin/env bash
# Installs the three third-party IdPs of the end-to-end tests (tests/e2e), when missing:
# - SimpleSAMLphp from Debian, with the PHP CLI (for its built-in web server) and the xml and
#   mbstring extensions it needs but does not pull in;
# - the npm package saml-idp, pinned by scripts/idp/saml-idp/package-lock.json;
# - the Keycloak server, from Maven Central (scripts/idp/keycloak.sh).
# Quiet when all is well; on failure it shows what apt or npm said.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

bash "$here/../apt-install.sh" "IdP packages" simplesamlphp php-cli php-xml php-mbstring

# npm keeps a copy of the lock it installed in node_modules/.package-lock.json: reinstall when
# there is none or the committed lock is newer.
saml_idp="$here/saml-idp"
installed_lock="$saml_idp/node_modules/.package-lock.json"
if [ ! -f "$installed_lock" ] || [ "$saml_idp/package-lock.json" -nt "$installed_lock" ]; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "npm is missing: install Node.js (20) and npm" >&2
        exit 1
    fi
    echo "Installing saml-idp (npm ci in scripts/idp/saml-idp)"
    if ! log=$(cd "$saml_idp" && npm ci --no-audit --no-fund --loglevel=error 2>&1); then
        echo "$log" >&2
        exit 1
    fi
fi

bash "$here/keycloak.sh"
