"""Two third-party IdPs, run for real on loopback ports: SimpleSAMLphp and npm's saml-idp.

Each is configured for one SP (ours) from files written into a work folder of the test's own,
with a signing key generated on the spot. `scripts/idp/install.sh` installs both.

    idp = SimpleSAMLphpIdP()
    idp.start(sp_metadata_xml, sp_entity_id, acs_url, tmp_path)
    try:
        idp.metadata_xml()  # what an admin pastes into the wizard
        ...                 # browser at our SP login -> idp.login(page, "grace", "grace-password")
    finally:
        idp.stop()

`signs` chooses what the IdP signs, in the words of a profile's signature policy: "both" (the
default), "response" (the Response only) or "assertion" (the Assertion only); `SIGNS` says
which modes each IdP has.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import urllib.error
import urllib.request
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, ClassVar, Self
from urllib.parse import urlsplit

from playwright.sync_api import Page

from tests.fixtures import servers
from tests.fixtures.idp import KeyPair
from tests.fixtures.servers import HOST, ROOT

INSTALL_HINT = "run scripts/idp/install.sh"
BOTH, RESPONSE, ASSERTION = "both", "response", "assertion"
EMAIL_FORMAT = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
START_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0
LOG_TAIL_CHARS = 6000


class IdPError(RuntimeError):
    """An IdP did not install, start or answer; the message carries the tail of its log."""


@dataclass(frozen=True)
class IdPUser:
    username: str
    password: str
    email: str
    first_name: str
    last_name: str


GRACE = IdPUser("grace", "grace-password", "grace@acme.test", "Grace", "Hopper")


def write_signing_key_pair(folder: Path, common_name: str) -> tuple[Path, Path]:
    """A fresh IdP signing key (mode 0600) and self-signed certificate in `folder`."""
    return KeyPair.generate(common_name, days=30).write(folder, "idp-signing")


# Loopback only, never through a proxy from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_get(url: str, timeout: float = 5.0) -> str:
    with _OPENER.open(url, timeout=timeout) as response:
        return response.read().decode()


class _IdPProcess(ABC):
    """One IdP server process in its own process group, its output in `<workdir>/<name>.log`."""

    name: ClassVar[str]
    SIGNS: ClassVar[tuple[str, ...]] = (BOTH,)

    @classmethod
    @abstractmethod
    def missing(cls) -> str | None:
        """Why it cannot run here, or None when it can."""

    def __init__(self, users: Sequence[IdPUser] = (GRACE,), *, signs: str = BOTH) -> None:
        if signs not in self.SIGNS:
            raise IdPError(f"{self.name} cannot sign {signs!r}; it signs {self.SIGNS}")
        self.users = tuple(users)
        self.signs = signs
        self.port = 0
        self.workdir: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    @abstractmethod
    def entity_id(self) -> str: ...

    @property
    @abstractmethod
    def sso_url(self) -> str: ...

    @property
    @abstractmethod
    def metadata_url(self) -> str: ...

    @abstractmethod
    def start(self, sp_metadata_xml: str, sp_entity_id: str, acs_url: str, workdir: Path) -> None:
        """Configure the IdP for this one SP in `workdir`, start it on a free port, wait for it."""

    @abstractmethod
    def login(self, page: Page, username: str, password: str) -> None:
        """Sign in on the IdP's own page, where the SP's AuthnRequest has led `page`."""

    @property
    def log_path(self) -> Path:
        assert self.workdir is not None, f"{self.name} was never started"
        return self.workdir / f"{self.name}.log"

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except (AssertionError, FileNotFoundError):
            return ""

    def metadata_xml(self) -> str:
        """The IdP's own SAML metadata, fetched from the running server."""
        return http_get(self.metadata_url)

    def _spawn(self, command: list[str], *, env: dict[str, str], cwd: Path) -> None:
        if self._process is not None:
            raise IdPError(f"{self.name} is already running on port {self.port}")
        self._log = self.log_path.open("ab")
        self._process = servers.spawn(command, env=env, cwd=cwd, log=self._log)
        try:
            servers.wait_until_ready(self._process, self._answers, timeout=START_TIMEOUT)
        except servers.NotReady as error:
            self.stop()
            raise self.field_error(str(error)) from None

    def _answers(self) -> str | None:
        try:
            http_get(self.metadata_url, timeout=2.0)
        except urllib.error.HTTPError as error:
            return f"HTTP {error.code} from {self.metadata_url}"
        except OSError as error:
            return f"{error} from {self.metadata_url}"
        return None

    def field_error(self, what: str) -> IdPError:
        log = self.log_text()[-LOG_TAIL_CHARS:] or "(empty)"
        return IdPError(f"{self.name} on port {self.port} {what}. Its log {self.log_path}:\n{log}")

    def stop(self) -> None:
        """Terminate the process group (SIGTERM, then SIGKILL); safe to call twice."""
        if self._process is not None:
            servers.stop(self._process, timeout=STOP_TIMEOUT)
        self._cleanup()

    def _cleanup(self) -> None:
        self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _user(self, username: str, password: str) -> IdPUser:
        for user in self.users:
            if user.username == username and user.password == password:
                return user
        raise IdPError(f"{self.name} has no user {username!r} with that password")


def _php(value: object) -> str:
    """A PHP literal for a JSON-like Python value (str, bool, int, None, list, dict)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_php(item) for item in value) + "]"
    if isinstance(value, dict):
        items = ",\n".join(f"    {_php(key)} => {_php(item)}" for key, item in value.items())
        return "[\n" + items + ",\n]"
    raise TypeError(f"no PHP literal for {value!r}")


def _php_file(comment: str, body: str) -> str:
    return f"<?php\n// {comment} Written by tests/e2e/idps.py for one test run.\n{body}\n"


class SimpleSAMLphpIdP(_IdPProcess):
    """Debian's SimpleSAMLphp 1.19 as a SAML 2.0 IdP under PHP's built-in web server.

    Everything it reads lives in the work folder: SIMPLESAMLPHP_CONFIG_DIR points at its own
    config.php and authsources.php, and nothing under /etc is read for configuration.
    """

    name = "simplesamlphp"
    SIGNS = (BOTH, RESPONSE, ASSERTION)
    install_dir = Path("/usr/share/simplesamlphp")
    php = "php"

    @property
    def entity_id(self) -> str:
        return self.metadata_url

    @property
    def metadata_url(self) -> str:
        return f"{self.base_url}/saml2/idp/metadata.php"

    @property
    def sso_url(self) -> str:
        return f"{self.base_url}/saml2/idp/SSOService.php"

    @classmethod
    def missing(cls) -> str | None:
        if not (cls.install_dir / "www" / "saml2" / "idp" / "SSOService.php").exists():
            return f"SimpleSAMLphp is not installed in {cls.install_dir}: {INSTALL_HINT}"
        if shutil.which(cls.php) is None:
            return f"{cls.php} is not installed: {INSTALL_HINT}"
        return None

    def start(self, sp_metadata_xml: str, sp_entity_id: str, acs_url: str, workdir: Path) -> None:
        if problem := self.missing():
            raise IdPError(problem)
        www = self.install_dir / "www"
        self.workdir = workdir
        self.port = servers.free_port()
        folders = {
            name: workdir / name
            for name in ("config", "metadata", "cert", "data", "tmp", "sessions")
        }
        for folder in folders.values():
            folder.mkdir(parents=True, exist_ok=True)
        write_signing_key_pair(folders["cert"], f"SimpleSAMLphp e2e IdP {self.port}")
        self._write_config(folders, sp_origin=urlsplit(acs_url).netloc)
        self._write_metadata(folders["metadata"], sp_metadata_xml, sp_entity_id)
        env = {**os.environ, "SIMPLESAMLPHP_CONFIG_DIR": str(folders["config"])}
        command = [
            self.php,
            "-d", "display_errors=stderr",
            "-d", "log_errors=0",
            "-d", "date.timezone=UTC",
            "-S", f"{HOST}:{self.port}",
            "-t", str(www),
        ]  # fmt: skip
        self._spawn(command, env=env, cwd=workdir)

    def _write_config(self, folders: dict[str, Path], *, sp_origin: str) -> None:
        config = {
            "baseurlpath": f"{self.base_url}/",
            "certdir": f"{folders['cert']}/",
            "metadatadir": f"{folders['metadata']}/",
            "datadir": f"{folders['data']}/",
            "tempdir": str(folders["tmp"]),
            "loggingdir": f"{folders['data']}/",
            "secretsalt": secrets.token_hex(16),
            "auth.adminpassword": secrets.token_hex(16),
            "technicalcontact_name": "End-to-end tests",
            "technicalcontact_email": "e2e@acme.test",
            "timezone": "UTC",
            "enable.saml20-idp": True,
            "module.enable": {"core": True, "saml": True, "exampleauth": True},
            "metadata.sources": [{"type": "flatfile"}],
            "admin.protectmetadata": False,
            "admin.checkforupdates": False,
            "logging.handler": "stderr",
            "logging.level": 7,  # SimpleSAML\Logger::DEBUG: what it decided, in our log
            "debug": {"saml": False, "backtraces": True, "validatexml": False},
            "showerrors": True,
            "errorreporting": False,
            "production": True,  # no pre-production banner on the login page
            # Plain http on loopback: a Secure cookie would never come back.
            "session.cookie.secure": False,
            "session.cookie.samesite": None,
            "language.cookie.secure": False,
            "session.phpsession.savepath": str(folders["sessions"]),
            "store.type": "phpsession",
            "statistics.out": [],
            # Where its own logout page may send the browser back to (ReturnTo): our SP.
            "trusted.url.domains": [sp_origin],
        }
        users = {
            f"{user.username}:{user.password}": {
                "uid": [user.username],
                "mail": [user.email],
                "givenName": [user.first_name],
                "sn": [user.last_name],
            }
            for user in self.users
        }
        authsources = {"e2e-userpass": {0: "exampleauth:UserPass", **users}}
        (folders["config"] / "config.php").write_text(
            _php_file("SimpleSAMLphp configuration.", f"$config = {_php(config)};")
        )
        (folders["config"] / "authsources.php").write_text(
            _php_file("Users of the test IdP.", f"$config = {_php(authsources)};")
        )

    def _write_metadata(self, folder: Path, sp_metadata_xml: str, sp_entity_id: str) -> None:
        # Set on both the hosted IdP and our SP's entry: the SP's entry wins in SimpleSAMLphp.
        signing = {
            "saml20.sign.response": self.signs in (BOTH, RESPONSE),
            "saml20.sign.assertion": self.signs in (BOTH, ASSERTION),
            "signature.algorithm": RSA_SHA256,
            "assertion.encryption": False,
            # Single logout: its LogoutRequests and LogoutResponses signed, ours required so.
            "sign.logout": True,
            "validate.logout": True,
        }
        hosted = {
            "host": "__DEFAULT__",
            "privatekey": "idp-signing.key",
            "certificate": "idp-signing.crt",
            "auth": "e2e-userpass",
            **signing,
            "NameIDFormat": EMAIL_FORMAT,
            "authproc": {
                # The NameID is the `mail` attribute, in format emailAddress.
                10: {"class": "saml:AttributeNameID", "attribute": "mail", "Format": EMAIL_FORMAT},
            },
        }
        (folder / "saml20-idp-hosted.php").write_text(
            _php_file("The IdP itself.", f"$metadata[{_php(self.entity_id)}] = {_php(hosted)};")
        )
        # Our SP, from its metadata XML exactly as an admin would paste it, converted by
        # SimpleSAMLphp's own parser (what its metadata converter page does).
        (folder / "sp-metadata.xml").write_text(sp_metadata_xml)
        overrides = {**signing, "NameIDFormat": EMAIL_FORMAT, "validate.authnrequest": True}
        body = (
            "$parsed = \\SimpleSAML\\Metadata\\SAMLParser::parseDescriptorsString(\n"
            "    file_get_contents(__DIR__ . '/sp-metadata.xml')\n);\n"
            f"$sp = $parsed[{_php(sp_entity_id)}]->getMetadata20SP();\n"
            f"$metadata[{_php(sp_entity_id)}] = array_merge($sp, {_php(overrides)});"
        )
        (folder / "saml20-sp-remote.php").write_text(_php_file("Our SP.", body))

    def sp_metadata_replace(self, sp_metadata_xml: str) -> None:
        """Give the running IdP our SP metadata anew, as a refresh of it would: SimpleSAMLphp
        reads the file on every request."""
        assert self.workdir is not None, f"{self.name} was never started"
        (self.workdir / "metadata" / "sp-metadata.xml").write_text(sp_metadata_xml)

    def login(self, page: Page, username: str, password: str) -> None:
        """Fill SimpleSAMLphp's own username/password form and submit it."""
        page.wait_for_url(f"{self.base_url}/**")
        page.locator("#username").fill(username)
        page.locator("#password").fill(password)
        page.locator("#submit_button").click()


class SamlIdpJs(_IdPProcess):
    """The npm package saml-idp 1.2.1 (installed in scripts/idp/saml-idp) under Node.

    It serves one SP given on the command line and has no passwords: its "login" page is a form
    of the assertion's NameID and attributes, which `login` fills from the chosen user.
    """

    name = "saml-idp"
    # samlp signs the Assertion whatever saml-idp is told; only the Response signature can go.
    SIGNS = (BOTH, ASSERTION)
    package_dir = ROOT / "scripts" / "idp" / "saml-idp"
    node = "node"

    @property
    def entity_id(self) -> str:
        return f"urn:e2e:saml-idp:{self.port}"

    @property
    def metadata_url(self) -> str:
        return f"{self.base_url}/metadata"

    @property
    def sso_url(self) -> str:
        return f"{self.base_url}/saml/sso"

    @classmethod
    def run_js(cls) -> Path:
        return cls.package_dir / "node_modules" / "saml-idp" / "bin" / "run.js"

    @classmethod
    def missing(cls) -> str | None:
        if not cls.run_js().exists():
            return f"saml-idp is not installed in {cls.package_dir}: {INSTALL_HINT}"
        if shutil.which(cls.node) is None:
            return f"{cls.node} is not installed"
        return None

    def start(self, sp_metadata_xml: str, sp_entity_id: str, acs_url: str, workdir: Path) -> None:
        if problem := self.missing():
            raise IdPError(problem)
        self.workdir = workdir
        self.port = servers.free_port()
        workdir.mkdir(parents=True, exist_ok=True)
        key, cert = write_signing_key_pair(workdir / "cert", f"saml-idp e2e IdP {self.port}")
        # saml-idp reads no SP metadata; it is kept beside its log for whoever debugs a run.
        (workdir / "sp-metadata.xml").write_text(sp_metadata_xml)
        config = workdir / "saml-idp-config.js"
        config.write_text(self._config_js(self.users[0]))
        command = [
            self.node, str(self.run_js()),
            "--host", HOST,
            "--port", str(self.port),
            "--issuer", self.entity_id,
            "--cert", str(cert),
            "--key", str(key),
            "--acsUrl", acs_url,
            "--audience", sp_entity_id,
            "--serviceProviderId", sp_entity_id,
            "--configFile", str(config),
            "--disableRequestAcsUrl",  # always the configured ACS, never the request's
            "--signResponse" if self.signs == BOTH else "--no-signResponse",
        ]  # fmt: skip
        # saml-idp prefers $HOST and $PORT to its flags; color codes would clutter the log.
        env = {k: v for k, v in os.environ.items() if k not in {"HOST", "PORT"}}
        env.update(FORCE_COLOR="0", NO_COLOR="1")
        self._spawn(command, env=env, cwd=workdir)

    @staticmethod
    def _config_js(user: IdPUser) -> str:
        profile = {
            "userName": user.email,
            "nameIdFormat": EMAIL_FORMAT,
            "firstName": user.first_name,
            "lastName": user.last_name,
            "displayName": f"{user.first_name} {user.last_name}",
            "email": user.email,
        }
        attributes = [
            ("firstName", "First Name"),
            ("lastName", "Last Name"),
            ("displayName", "Display Name"),
            ("email", "E-Mail Address"),
        ]
        metadata = [
            {"id": id_, "optional": False, "displayName": label, "description": label,
             "multiValue": False}
            for id_, label in attributes
        ]  # fmt: skip
        return (
            "// saml-idp's user profile and attributes. Written by tests/e2e/idps.py.\n"
            f"module.exports = {json.dumps({'user': profile, 'metadata': metadata}, indent=2)};\n"
        )

    def login(self, page: Page, username: str, password: str) -> None:
        """Fill saml-idp's assertion form for this user and press "Sign in".

        The NameID format sits in a collapsed "More Options" panel; it is opened and set to
        emailAddress explicitly rather than trusting the page script's preselection.
        """
        user = self._user(username, password)
        page.wait_for_url(f"{self.base_url}/**")
        page.locator("#userName").fill(user.email)
        page.get_by_role("link", name="More Options").click()
        page.locator("#nameIdFormat").select_option(EMAIL_FORMAT)
        page.locator("#firstName").fill(user.first_name)
        page.locator("#lastName").fill(user.last_name)
        page.locator("#email").fill(user.email)
        page.locator("#btn-sign-in").click()


AnyIdP = SimpleSAMLphpIdP | SamlIdpJs
