#!/usr/bin/env bash
# The development .env of `make run` (read by adminsite/settings.py because it says
# DJANGO_DEBUG=true): written once with a random secret, so manage.py commands work as the
# README shows them; its SSO_PUBLIC_BASE_URL follows the last `make run` HOST/PORT.
# Usage: scripts/dev-env.sh FILE BASE_URL
set -euo pipefail
file=${1:?file} base_url=${2:?base url}

if [[ ! -e $file ]]; then
  secret=$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')
  old=""
  # A database from before this file was encrypted its SP keys with the old fixed dev key.
  [[ -e db.sqlite3 ]] && old="dev-only-insecure-key-change-me"
  (
    umask 077
    cat >"$file" <<ENV
# Written by \`make run\` for development only (never deploy with it); see .env.example.
DJANGO_DEBUG=true
DJANGO_SECRET_KEY=$secret
SSO_KEY_ENCRYPTION_OLD_SECRETS=$old
SSO_PUBLIC_BASE_URL=$base_url
ENV
  )
  echo "Wrote $file (development settings, with a random DJANGO_SECRET_KEY)."
elif grep -qx 'DJANGO_DEBUG=true' "$file"; then
  if grep -q '^SSO_PUBLIC_BASE_URL=' "$file"; then
    sed -i "s|^SSO_PUBLIC_BASE_URL=.*|SSO_PUBLIC_BASE_URL=$base_url|" "$file"
  else
    echo "SSO_PUBLIC_BASE_URL=$base_url" >>"$file"
  fi
fi
