#!/usr/bin/env bash
# Fetches the Keycloak server of the end-to-end tests (tests/e2e/keycloak.py), when missing:
# org.keycloak:keycloak-quarkus-dist from Maven Central through Maven's own cache, unzipped once
# into scripts/idp/keycloak/keycloak-VERSION (ignored by git) and reused while it is there.
# Keycloak 26 runs on Java 17 or later. Quiet when all is well; on failure it shows what Maven said.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
version="${KEYCLOAK_VERSION:-26.5.6}"
cache="$here/keycloak"
home="$cache/keycloak-$version"

if [ -x "$home/bin/kc.sh" ]; then
    exit 0
fi

bash "$here/../apt-install.sh" "Keycloak's JDK and Maven" openjdk-17-jdk-headless maven unzip

java_major=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
if [ -z "$java_major" ] || [ "${java_major%%.*}" -lt 17 ]; then
    echo "Keycloak $version needs Java 17 or later; java is ${java_major:-unknown}" >&2
    exit 1
fi

echo "Fetching Keycloak $version (org.keycloak:keycloak-quarkus-dist) with Maven"
mkdir -p "$cache"
download="$cache/download"
rm -rf "$download"
if ! log=$(mvn -q -B org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy \
        "-Dartifact=org.keycloak:keycloak-quarkus-dist:$version:zip" \
        "-DoutputDirectory=$download" 2>&1); then
    echo "$log" >&2
    exit 1
fi
# Unzipped beside the final folder and renamed, so that an interrupted run leaves nothing usable.
partial="$cache/partial-$version"
rm -rf "$partial"
unzip -q "$download/keycloak-quarkus-dist-$version.zip" -d "$partial"
mv "$partial/keycloak-$version" "$home"
rm -rf "$partial" "$download"
