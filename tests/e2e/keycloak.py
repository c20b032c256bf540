"""Keycloak 26 as a third real IdP: one server per test run (dev mode, in-memory H2, loopback),
a realm per test, and the small part of its admin REST API an IdP admin's clicks amount to.

`scripts/idp/keycloak.sh` fetches the server distribution from Maven Central.

    server = KeycloakServer()
    server.start(workdir)                        # about 30 s, a minute on the first run
    realm = server.admin().realm_create("acme")  # a KeycloakRealm: entity_id, sso_url, ...
    client = realm.client_create_by_hand(entity_id=..., acs_url=...)
    realm.client_update(client, {"saml.assertion.signature": "true"})
    ...
    server.stop()
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from playwright.sync_api import Page

from tests.e2e.idps import INSTALL_HINT, LOG_TAIL_CHARS, IdPError, IdPUser
from tests.fixtures import servers
from tests.fixtures.servers import HOST, ROOT

VERSION = os.environ.get("KEYCLOAK_VERSION", "26.5.6")
HOME = ROOT / "scripts" / "idp" / "keycloak" / f"keycloak-{VERSION}"
# The first start of a fresh distribution also builds it (Quarkus augmentation, ~20 s); on
# two busy cores a start has taken 70 s.
START_TIMEOUT = 300.0
STOP_TIMEOUT = 20.0
ADMIN_USERNAME = "e2e-admin"
# Keycloak trims the realm's own caches and a dev server needs about 500 MB.
HEAP = "-Xms64m -Xmx640m"

# Keycloak's SAML client attributes (ClientRepresentation.attributes), by the admin console's
# label for them.
SIGN_DOCUMENTS = "saml.server.signature"
SIGN_ASSERTIONS = "saml.assertion.signature"
CLIENT_SIGNATURE_REQUIRED = "saml.client.signature"
SIGNING_CERTIFICATE = "saml.signing.certificate"
NAME_ID_FORMAT = "saml_name_id_format"
FORCE_NAME_ID_FORMAT = "saml_force_name_id_format"
SIGNATURE_ALGORITHM = "saml.signature.algorithm"
ENCRYPT_ASSERTIONS = "saml.encrypt"
ENCRYPTION_CERTIFICATE = "saml.encryption.certificate"
ACS_POST_URL = "saml_assertion_consumer_url_post"

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class KeycloakServer:
    """`kc.sh start-dev` on a free loopback port, its output in `<workdir>/keycloak.log`."""

    name = "keycloak"

    @staticmethod
    def missing() -> str | None:
        if not (HOME / "bin" / "kc.sh").exists():
            return f"Keycloak {VERSION} is not installed in {HOME}: {INSTALL_HINT}"
        if shutil.which("java") is None:
            return f"java is not installed (Keycloak {VERSION} needs 17 or later): {INSTALL_HINT}"
        return None

    def __init__(self) -> None:
        self.port = 0
        self.admin_password = secrets.token_urlsafe(16)
        self.startup_seconds = 0.0
        self.workdir: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def log_path(self) -> Path:
        assert self.workdir is not None, "Keycloak was never started"
        return self.workdir / "keycloak.log"

    def start(self, workdir: Path) -> None:
        if problem := self.missing():
            raise IdPError(problem)
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = servers.free_port()
        env = {
            **os.environ,
            "KC_BOOTSTRAP_ADMIN_USERNAME": ADMIN_USERNAME,
            "KC_BOOTSTRAP_ADMIN_PASSWORD": self.admin_password,
            "JAVA_OPTS_KC_HEAP": HEAP,
        }
        command = [
            str(HOME / "bin" / "kc.sh"), "start-dev",
            "--http-host", HOST,
            "--http-port", str(self.port),
            # Nothing kept between runs, and no fixed port: the management interface (health,
            # metrics) stays off, and its port is a free one should a default turn it on.
            "--db", "dev-mem",
            "--http-management-port", str(servers.free_port()),
            "--log-console-output", "default",
            "--log-console-color", "false",
        ]  # fmt: skip
        started = time.monotonic()
        self._log = self.log_path.open("ab")
        self._process = servers.spawn(command, env=env, cwd=workdir, log=self._log)
        try:
            servers.wait_until_ready(self._process, self._answers, timeout=START_TIMEOUT)
        except servers.NotReady as error:
            self.stop()
            log = self.log_path.read_text(errors="replace")[-LOG_TAIL_CHARS:]
            raise IdPError(f"Keycloak on port {self.port} {error}. Its log:\n{log}") from None
        self.startup_seconds = time.monotonic() - started

    def _answers(self) -> str | None:
        url = f"{self.base_url}/realms/master"
        try:
            with _OPENER.open(url, timeout=2.0):
                return None
        except urllib.error.HTTPError as error:
            return f"HTTP {error.code} from {url}"
        except OSError as error:
            return f"{error} from {url}"

    def stop(self) -> None:
        if self._process is not None:
            servers.stop(self._process, timeout=STOP_TIMEOUT)
            self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def admin(self) -> KeycloakAdmin:
        return KeycloakAdmin(self.base_url, ADMIN_USERNAME, self.admin_password)


class KeycloakAdmin:
    """The admin REST API as the master realm's admin, through admin-cli's password grant.

    The master realm's access tokens live 60 s; a new one is fetched a little before that.
    """

    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.base_url = base_url
        self._credentials = {
            "client_id": "admin-cli",
            "grant_type": "password",
            "username": username,
            "password": password,
        }
        self._token = ""
        self._token_until = 0.0

    def _bearer(self) -> str:
        if time.monotonic() >= self._token_until:
            body = urllib.parse.urlencode(self._credentials).encode()
            url = f"{self.base_url}/realms/master/protocol/openid-connect/token"
            with _OPENER.open(url, body, timeout=30) as response:
                answer = json.load(response)
            self._token = answer["access_token"]
            self._token_until = time.monotonic() + int(answer["expires_in"]) - 15
        return self._token

    def call(
        self,
        method: str,
        path: str,
        *,
        body: object = None,
        data: bytes | None = None,
        content_type: str = "application/json",
    ) -> Any:
        """`method` on /admin`path`; the decoded JSON answer (None when empty).

        Raises IdPError with Keycloak's own error text on any non-2xx answer.
        """
        payload = data if data is not None else None if body is None else json.dumps(body).encode()
        # The loopback http URL of the server this run started.
        request = urllib.request.Request(  # noqa: S310
            f"{self.base_url}/admin{path}",
            data=payload,
            method=method,
            headers={
                "Authorization": f"Bearer {self._bearer()}",
                "Content-Type": content_type,
                "Accept": "application/json",
            },
        )
        try:
            with _OPENER.open(request, timeout=30) as response:
                text = response.read().decode()
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace")[:2000]
            raise IdPError(f"Keycloak {method} {path}: HTTP {error.code} {detail}") from None
        return json.loads(text) if text.strip() else None

    def realm_create(self, name: str) -> KeycloakRealm:
        self.call("POST", "/realms", body={"realm": name, "enabled": True})
        return KeycloakRealm(self, name)


@dataclass(frozen=True)
class KeycloakClient:
    id: str  # Keycloak's internal UUID
    client_id: str  # the SAML entity ID of the SP


class KeycloakRealm:
    """One realm of the test's own: its SAML IdP endpoints, users and SAML clients."""

    name = "keycloak"

    def __init__(self, admin: KeycloakAdmin, realm: str) -> None:
        self.admin = admin
        self.realm = realm
        self.base_url = admin.base_url

    @property
    def entity_id(self) -> str:
        return f"{self.base_url}/realms/{self.realm}"

    @property
    def sso_url(self) -> str:
        return f"{self.base_url}/realms/{self.realm}/protocol/saml"

    @property
    def metadata_url(self) -> str:
        return f"{self.base_url}/realms/{self.realm}/protocol/saml/descriptor"

    def metadata_xml(self) -> str:
        with _OPENER.open(self.metadata_url, timeout=10) as response:
            return response.read().decode()

    def delete(self) -> None:
        self.admin.call("DELETE", f"/realms/{self.realm}")

    def user_create(self, user: IdPUser) -> None:
        self.admin.call(
            "POST",
            f"/realms/{self.realm}/users",
            body={
                "username": user.username,
                "email": user.email,
                "emailVerified": True,
                "firstName": user.first_name,
                "lastName": user.last_name,
                "enabled": True,
                "credentials": [{"type": "password", "value": user.password, "temporary": False}],
            },
        )

    def client_create_by_hand(self, *, entity_id: str, acs_url: str) -> KeycloakClient:
        """What the admin console's Clients → Create client sends for a SAML client given only
        its Client ID (our Entity ID) and, on Login settings, Valid redirect URIs (our ACS URL):
        every other attribute takes Keycloak's server-side defaults."""
        return self._client_create(
            {
                "protocol": "saml",
                "clientId": entity_id,
                "name": "",
                "description": "",
                "publicClient": True,
                "frontchannelLogout": True,
                "alwaysDisplayInConsole": False,
                "redirectUris": [acs_url],
                "attributes": {"saml_idp_initiated_sso_url_name": ""},
            }
        )

    def client_import(self, sp_metadata_xml: str) -> KeycloakClient:
        """Clients → Import client with our SP metadata file: Keycloak's client-description
        converter turns the XML into a client representation, saved as it proposes."""
        proposed = self.admin.call(
            "POST",
            f"/realms/{self.realm}/client-description-converter",
            data=sp_metadata_xml.encode(),
            content_type="application/xml",
        )
        return self._client_create(proposed)

    def _client_create(self, representation: dict[str, Any]) -> KeycloakClient:
        self.admin.call("POST", f"/realms/{self.realm}/clients", body=representation)
        return self._find(representation["clientId"])

    def _find(self, client_id: str) -> KeycloakClient:
        query = urllib.parse.urlencode({"clientId": client_id})
        (found,) = self.admin.call("GET", f"/realms/{self.realm}/clients?{query}")
        return KeycloakClient(id=found["id"], client_id=found["clientId"])

    def client_json(self, client: KeycloakClient) -> dict[str, Any]:
        return self.admin.call("GET", f"/realms/{self.realm}/clients/{client.id}")

    def client_update(self, client: KeycloakClient, attributes: dict[str, str]) -> None:
        """Change some of the client's attributes, as saving a tab of its console page does."""
        representation = self.client_json(client)
        representation["attributes"] = {**representation.get("attributes", {}), **attributes}
        self.admin.call("PUT", f"/realms/{self.realm}/clients/{client.id}", body=representation)

    def client_mapper_create(
        self, client: KeycloakClient, *, user_property: str, attribute: str
    ) -> None:
        """Client scopes → the client's dedicated scope → By configuration → User Property."""
        self.admin.call(
            "POST",
            f"/realms/{self.realm}/clients/{client.id}/protocol-mappers/models",
            body={
                "name": attribute,
                "protocol": "saml",
                "protocolMapper": "saml-user-property-mapper",
                "config": {
                    "user.attribute": user_property,
                    "attribute.name": attribute,
                    "attribute.nameformat": "Basic",
                    "friendly.name": "",
                },
            },
        )

    def client_certificate_upload(self, client: KeycloakClient, certificate_pem: str) -> None:
        """Keys → Signing keys config → Import key, Archive format "Certificate PEM": the
        certificate Keycloak checks the SP's signed AuthnRequests with."""
        boundary = secrets.token_hex(16)
        parts = [("keystoreFormat", b"Certificate PEM"), ("file", certificate_pem.encode())]
        body = b""
        for field, value in parts:
            filename = '; filename="sp.pem"' if field == "file" else ""
            disposition = f'Content-Disposition: form-data; name="{field}"{filename}'
            body += f"--{boundary}\r\n{disposition}\r\n\r\n".encode() + value + b"\r\n"
        body += f"--{boundary}--\r\n".encode()
        self.admin.call(
            "POST",
            f"/realms/{self.realm}/clients/{client.id}/certificates/saml.signing/upload-certificate",
            data=body,
            content_type=f"multipart/form-data; boundary={boundary}",
        )

    def login(self, page: Page, username: str, password: str) -> None:
        """Fill Keycloak's own login page (theme keycloak.v2) and press "Sign In"."""
        page.wait_for_url(f"{self.base_url}/**")
        page.locator("#username").fill(username)
        page.locator("#password").fill(password)
        page.locator("#kc-login").click()
