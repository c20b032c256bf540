"""ACS benchmark: what verifying one SAML login costs, from the bare cryptography up to gunicorn.

Run `.venv/bin/python bench/acs.py` (or `make bench`); `--quick` for a smoke run. It sets up
Django on a throwaway SQLite database, generates its own IdP key, signs its own responses
(Response and Assertion, RSA-2048/SHA-256, with tests/fixtures/idp.py) and prints one table.
See bench/README.md for what each row means.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import hashlib
import itertools
import logging
import multiprocessing
import os
import platform
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from multiprocessing.pool import Pool
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
# Run as a script: the project and its test fixtures (tests/ is not installed) are importable.
sys.path.insert(0, str(ROOT))

from tests.fixtures.idp import (  # noqa: E402
    KeyPair,
    ResponseSpec,
    TestIdP,
    encode,
    new_id,
)

if TYPE_CHECKING:
    from sso.models import SSOProfile

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
EMAIL = "grace@acme.test"
CLIENT_THREADS = 4
GUNICORN_WORKERS = 2
TARGET_RATIO = 10.0
TARGET_RATIO_SIZES = (5, 500)
TARGET_LOAD_SIZE = 5  # the login rate and latency targets are for 5-attribute responses
TARGET_LOGINS_PER_SECOND = 300.0
TARGET_P99_MS = 50.0
TARGET_RSS_GROWTH_MB = 20.0
TARGET_RSS_LOGINS = 100_000
_REDIS_CACHE = "sso.cache.RedisCache"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


# Options ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    sizes: tuple[int, ...]
    reps: int
    logins: int
    seconds: float
    clients: int
    keep: bool

    def reps_for(self, size: int) -> int:
        """Timed repetitions: all of them up to 100 attributes, fewer above, never below 100
        (a median of fewer swings with the machine's noise)."""
        return min(self.reps, max(100, self.reps * 100 // size))

    def slow_reps_for(self, size: int) -> int:
        """For pysaml2 with the xmlsec1 program, tens of milliseconds a call: a quarter."""
        return max(10, self.reps_for(size) // 4)


def parse_options(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 30 reps, 5 s loops, 2000 logins"
    )
    parser.add_argument("--sizes", default="5,50,500", help="attribute counts (default 5,50,500)")
    parser.add_argument("--reps", type=int, help="timed repetitions per row (default 200)")
    parser.add_argument(
        "--logins", type=int, help="logins for the gunicorn RSS row (default 100000)"
    )
    parser.add_argument(
        "--seconds", type=float, help="duration of each gunicorn load loop (default 15)"
    )
    parser.add_argument("--clients", type=int, default=CLIENT_THREADS, help="client threads")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)
    sizes = tuple(sorted({int(size) for size in args.sizes.split(",") if size.strip()}))
    if not sizes or min(sizes) < 1:
        parser.error("--sizes takes positive attribute counts, e.g. 5,50,500")
    return Options(
        sizes=sizes,
        reps=args.reps or (30 if args.quick else 200),
        logins=args.logins if args.logins is not None else (2_000 if args.quick else 100_000),
        seconds=args.seconds or (5.0 if args.quick else 15.0),
        clients=max(1, args.clients),
        keep=args.keep,
    )


# Machine ----------------------------------------------------------------------------------------


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _xmlsec1_program() -> str:
    from sso.saml.config import _xmlsec_binary

    try:
        binary = _xmlsec_binary()
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        return f"unavailable ({exc.__class__.__name__})"
    return out.stdout.strip()


def machine_lines(shared_cache_url: str | None) -> list[str]:
    import xmlsec
    from django.conf import settings

    libxmlsec = ".".join(str(part) for part in xmlsec.get_libxmlsec_version())
    libxml2 = ".".join(str(part) for part in etree.LIBXML_VERSION)
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    return [
        f"ACS benchmark, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"machine: {_cpu_model()}, {os.cpu_count()} cores ({affinity} usable), "
        f"{platform.system()} {platform.release()}",
        f"python {platform.python_version()}; pysaml2 {_version('pysaml2')}; "
        f"xmlsec {_version('xmlsec')} (libxmlsec1 {libxmlsec}); "
        f"xmlsec1 program: {_xmlsec1_program()}",
        f"lxml {_version('lxml')} (libxml2 {libxml2}); cryptography {_version('cryptography')}; "
        f"signxml {_version('signxml')}; Django {_version('django')}; "
        f"djangosaml2 {_version('djangosaml2')}; gunicorn {_version('gunicorn')}",
        f"configured SSO_SIGNATURE_BACKEND={settings.SSO_SIGNATURE_BACKEND!r}; "
        f"database: throwaway SQLite (WAL); cache: rows 1-4 "
        f"{settings.CACHES['default']['BACKEND'].rpartition('.')[2]} in this process, rows 5-6 "
        + (
            f"Redis shared by the workers ({_redis_version()})"
            if shared_cache_url
            else "LocMemCache per worker (no redis-server found: the workers share no cache)"
        ),
    ]


def _redis_version() -> str:
    try:
        out = subprocess.run(["redis-server", "--version"], capture_output=True, text=True)
    except OSError:
        return "version unknown"
    return out.stdout.split(" v=")[1].split()[0] if " v=" in out.stdout else "version unknown"


# Django -----------------------------------------------------------------------------------------


def setup_django(workdir: Path) -> str:
    """Django on a fresh SQLite file in `workdir`; returns the DATABASE_URL gunicorn shares."""
    # The project's SQLite settings (WAL, IMMEDIATE transactions): two workers share the file.
    database_url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adminsite.settings_test")
    os.environ["DATABASE_URL"] = database_url

    import django
    from django.core.management import call_command

    django.setup()
    # INFO lines per login (JIT creation, ...) and library deprecation noise are not results.
    logging.disable(logging.INFO)
    warnings.simplefilter("ignore")
    call_command("migrate", verbosity=0)
    # Rows 1-4 run in this process: loaded as a gunicorn worker is (URLconf, then gc.freeze()).
    import adminsite.wsgi  # noqa: F401

    return database_url


def create_profile() -> SSOProfile:
    from tests.factories import ActiveProfileFactory

    return ActiveProfileFactory()  # SP-initiated only: every response answers a request


def load_profile(sid: str) -> SSOProfile:
    """The profile as the ACS view loads it, with its certificates and domains."""
    from sso.profiles.selectors import profile_for_sign_in

    return profile_for_sign_in(sid=sid)


# Signed responses -------------------------------------------------------------------------------


def attributes_for(size: int) -> dict[str, str]:
    attributes = {"givenName": "Grace", "sn": "Hopper"}
    for index in range(size - len(attributes)):
        attributes[f"urn:oid:1.3.6.1.4.1.99999.{index}"] = f"value {index} of this attribute"
    return dict(list(attributes.items())[:size])


_POOL_IDP: TestIdP | None = None


def _init_signer(keys: KeyPair, entity_id: str) -> None:
    global _POOL_IDP
    _POOL_IDP = TestIdP(keys, entity_id=entity_id)


def _sign_batch(task: tuple[ResponseSpec, list[str], bool]) -> list[str] | list[bytes]:
    """A response to each AuthnRequest id, with fresh Response and Assertion IDs.

    As base64 text, or (`as_body`) as the urlencoded POST body a browser sends.
    """
    spec, request_ids, as_body = task
    if _POOL_IDP is None:
        raise RuntimeError("signer not initialised")
    encoded = [
        encode(
            _POOL_IDP.signxml_response(
                spec.replace(response_id=new_id(), assertion_id=new_id(), in_response_to=request_id)
            )
        )
        for request_id in request_ids
    ]
    if as_body:
        return [urlencode({"SAMLResponse": value}).encode() for value in encoded]
    return encoded


class Signer:
    """Signs responses in a pool of processes, one per core."""

    def __init__(self, keys: KeyPair, entity_id: str) -> None:
        context = multiprocessing.get_context("fork")
        self._pool: Pool = context.Pool(
            processes=os.cpu_count() or 2, initializer=_init_signer, initargs=(keys, entity_id)
        )

    def _tasks(
        self, spec: ResponseSpec, request_ids: list[str], as_body: bool
    ) -> list[tuple[ResponseSpec, list[str], bool]]:
        count = len(request_ids)
        batch = max(1, min(200, count // (4 * (os.cpu_count() or 2))))
        return [
            (spec, request_ids[start : start + batch], as_body) for start in range(0, count, batch)
        ]

    def responses(self, spec: ResponseSpec, request_ids: list[str]) -> list[str]:
        tasks = self._tasks(spec, request_ids, as_body=False)
        return [item for chunk in self._pool.imap(_sign_batch, tasks) for item in chunk]

    def bodies(self, spec: ResponseSpec, request_ids: list[str]) -> list[bytes]:
        tasks = self._tasks(spec, request_ids, as_body=True)
        return [item for chunk in self._pool.imap(_sign_batch, tasks) for item in chunk]

    def bodies_to_file(self, spec: ResponseSpec, request_ids: list[str], path: Path) -> None:
        """Many POST bodies, one a line, without holding them all in memory."""
        tasks = self._tasks(spec, request_ids, as_body=True)
        with path.open("wb") as file:
            for chunk in self._pool.imap(_sign_batch, tasks):
                for body in chunk:
                    file.write(body + b"\n")

    def close(self) -> None:
        self._pool.close()
        self._pool.join()


# Outstanding requests --------------------------------------------------------------------------

# The benchmark's one browser: the `sso_request` cookie every AuthnRequest is bound to.
BROWSER_TOKEN = secrets.token_urlsafe(32)


def _request_cookie_name() -> str:
    from django.conf import settings

    return settings.SSO_REQUEST_COOKIE_NAME


def outstanding_requests(sid: str, count: int, cache_url: str | None = None) -> list[str]:
    """`count` AuthnRequest ids this browser is waiting on, stored as the login endpoint stores
    them (`pending_request_save`), in this process's cache or the workers' shared one."""
    from django.test import override_settings

    from sso.saml.pending import pending_request_save

    caches = (
        override_settings(CACHES={"default": {"BACKEND": _REDIS_CACHE, "LOCATION": cache_url}})
        if cache_url
        else contextlib.nullcontext()
    )
    request_ids = [f"id-{secrets.token_hex(16)}" for _ in range(count)]
    # Answered within the run, however long it takes.
    with caches, override_settings(SSO_REQUEST_TTL_SECONDS=6 * 3600):
        for request_id in request_ids:
            pending_request_save(
                request_id=request_id, sid=sid, relay_state="", token=BROWSER_TOKEN
            )
    return request_ids


# The floor --------------------------------------------------------------------------------------


class Floor:
    """The least any verifier does: parse, and for the Response and the Assertion, exclusive
    c14n of SignedInfo and of the element minus its enveloped Signature, a SHA-256 digest
    compared with DigestValue, and an RSA PKCS#1 v1.5 / SHA-256 verification."""

    def __init__(self, certificate_pem: str) -> None:
        public_key = x509.load_pem_x509_certificate(certificate_pem.encode()).public_key()
        if not isinstance(public_key, rsa.RSAPublicKey):
            raise TypeError("the benchmark IdP signs with RSA")
        self._public_key = public_key

    def __call__(self, saml_response: str) -> None:
        root = etree.fromstring(base64.b64decode(saml_response), _PARSER)
        assertion = root.find(f"{{{SAML}}}Assertion")
        if root.tag != f"{{{SAMLP}}}Response" or assertion is None:
            raise ValueError("not a Response with an Assertion")
        # The Response first: its digest covers the Assertion with the Assertion's Signature.
        for signed_info, signature_value in (self._digest(root), self._digest(assertion)):
            self._public_key.verify(
                signature_value, signed_info, padding.PKCS1v15(), hashes.SHA256()
            )

    @staticmethod
    def _digest(element: etree._Element) -> tuple[bytes, bytes]:
        signature = element.find(f"{{{DS}}}Signature")
        signed_info = signature.find(f"{{{DS}}}SignedInfo") if signature is not None else None
        if signature is None or signed_info is None:
            raise ValueError("unsigned element")
        canonical_signed_info = etree.tostring(signed_info, method="c14n", exclusive=True)
        digest_value = signed_info.findtext(f"{{{DS}}}Reference/{{{DS}}}DigestValue") or ""
        signature_value = signature.findtext(f"{{{DS}}}SignatureValue") or ""
        element.remove(signature)  # the enveloped-signature transform
        canonical = etree.tostring(element, method="c14n", exclusive=True)
        if hashlib.sha256(canonical).digest() != base64.b64decode(digest_value):
            raise ValueError("digest mismatch")
        return canonical_signed_info, base64.b64decode(signature_value)


# Timing -----------------------------------------------------------------------------------------


def median_ms(call: Callable[[Any], object], inputs: Sequence[Any], *, warmup: int = 3) -> float:
    """Median wall time of `call(input)` over `inputs`, after `warmup` untimed calls."""
    for value in inputs[:warmup]:
        call(value)
    times = []
    for value in inputs[warmup:]:
        start = time.perf_counter()
        call(value)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def interleaved_medians_ms(
    floor: Callable[[Any], object],
    floor_input: Any,
    call: Callable[[Any], object],
    inputs: Sequence[Any],
    *,
    floor_reps: int,
    blocks: int = 10,
    warmup: int = 3,
) -> tuple[float, float]:
    """Median wall times of `floor(floor_input)`, `floor_reps` times, and of `call(input)` over
    `inputs` (after `warmup` untimed calls of each), timed in alternating blocks: the two
    medians, and so their ratio, span the same stretch of a machine whose speed drifts, while
    each block runs warm, as a worker serving one kind of request does."""
    for value in inputs[:warmup]:
        floor(floor_input)
        call(value)
    inputs = inputs[warmup:]
    floor_times, call_times = [], []
    for block in range(blocks):
        for _ in range(floor_reps // blocks):
            start = time.perf_counter()
            floor(floor_input)
            floor_times.append(time.perf_counter() - start)
        for value in inputs[block::blocks]:
            start = time.perf_counter()
            call(value)
            call_times.append(time.perf_counter() - start)
    return statistics.median(floor_times) * 1000, statistics.median(call_times) * 1000


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted sequence."""
    if not sorted_values:
        return float("nan")
    rank = max(0, min(len(sorted_values) - 1, round(fraction * len(sorted_values) + 0.5) - 1))
    return sorted_values[rank]


# gunicorn ---------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _children(pid: int) -> list[int]:
    try:
        return sorted(
            int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        )
    except OSError:
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rpartition(")")[2].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                children.append(int(stat.parent.name))
        return sorted(children)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


class RedisServer:
    """A throwaway `redis-server` on a loopback port: the cache the gunicorn workers share, as
    several workers must (pending requests and the replay cache); None when not installed."""

    def __init__(self, workdir: Path) -> None:
        self.url: str | None = None
        self.process: subprocess.Popen | None = None
        binary = shutil.which("redis-server")
        if binary is None:
            return
        port = _free_port()
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
                    probe.sendall(b"PING\r\n")
                    if probe.recv(16).startswith(b"+PONG"):
                        self.url = f"redis://127.0.0.1:{port}/0"
                        return
            except OSError:
                time.sleep(0.05)
        self.stop()

    def __enter__(self) -> RedisServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


class Gunicorn:
    """`gunicorn adminsite.wsgi` with two sync workers on a loopback port, own process group."""

    def __init__(self, database_url: str, workdir: Path, cache_url: str | None = None) -> None:
        self.port = _free_port()
        self.log_path = workdir / "gunicorn.log"
        env = {**os.environ, "DATABASE_URL": database_url}  # and this DJANGO_SETTINGS_MODULE
        if cache_url:
            env["CACHE_URL"] = cache_url
        with self.log_path.open("wb") as log_file:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "adminsite.wsgi",
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--workers",
                    str(GUNICORN_WORKERS),
                    "--log-level",
                    "warning",
                ],
                cwd=ROOT,
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while not (len(self.workers()) == GUNICORN_WORKERS and self._accepts()):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"gunicorn did not start:\n{self.log_tail()}")
            time.sleep(0.1)

    def _accepts(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        except OSError:
            return False
        return True

    def workers(self) -> list[int]:
        return _children(self.process.pid)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def __enter__(self) -> Gunicorn:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


@dataclass
class LoadResult:
    ok: int = 0
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)

    @property
    def per_second(self) -> float:
        return self.ok / self.elapsed if self.elapsed else 0.0

    @property
    def failed(self) -> int:
        return sum(self.failures.values())

    def summary(self) -> str:
        failures = f" {dict(self.failures)}" if self.failures else ""
        return (
            f"{self.ok} logins in {self.elapsed:.1f} s ({self.per_second:.0f}/s), "
            f"{self.failed} failed{failures}"
        )

    def latency_ms(self, fraction: float) -> float:
        return percentile(sorted(self.latencies), fraction) * 1000


def _status_and_location(response: bytes) -> tuple[int, str]:
    """The status code and the Location header of a raw HTTP/1.x response."""
    head = response.partition(b"\r\n\r\n")[0].decode("latin-1")
    status_line, *header_lines = head.split("\r\n")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise ValueError(f"not an HTTP response: {status_line[:80]!r}")
    location = ""
    for line in header_lines:
        name, _, value = line.partition(":")
        if name.strip().lower() == "location":
            location = value.strip()
    return int(parts[1]), location


def post_once(port: int, request: bytes) -> tuple[int, str]:
    """Send one whole HTTP request on a new connection; read the answer until the server closes.

    A minimal client on purpose: the load loop shares the machine's cores with the server it
    measures, and http.client cost the server a tenth of them (0.35 ms of CPU per login).
    """
    with socket.create_connection(("127.0.0.1", port), timeout=120) as connection:
        connection.sendall(request)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    return _status_and_location(b"".join(chunks))


def load(
    port: int,
    path: str,
    bodies: Iterator[bytes],
    *,
    expected_location: str,
    clients: int,
    seconds: float | None = None,
    progress: Callable[[int], None] | None = None,
) -> LoadResult:
    """POST the bodies to `path` from `clients` threads until they run out or time is up."""
    result = LoadResult()
    lock = threading.Lock()
    start = time.perf_counter()
    deadline = start + seconds if seconds else float("inf")
    head = (
        f"POST {path} HTTP/1.1\r\n"
        "Host: 127.0.0.1\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Cookie: {_request_cookie_name()}={BROWSER_TOKEN}\r\n"
        "Connection: close\r\n"
    )

    def client() -> None:
        while time.perf_counter() < deadline:
            with lock:
                body = next(bodies, None)
            if body is None:
                return
            body = body.rstrip(b"\n")
            request = f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body
            began = time.perf_counter()
            try:
                status, location = post_once(port, request)
            except (OSError, ValueError) as exc:
                status, location = 0, exc.__class__.__name__
            took = time.perf_counter() - began
            with lock:
                if status == 302 and location == expected_location:
                    result.ok += 1
                    result.latencies.append(took)
                    if progress and result.ok % 10_000 == 0:
                        progress(result.ok)
                else:
                    result.failures[f"{status} {location}".strip()] += 1

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.elapsed = time.perf_counter() - start
    return result


# The table --------------------------------------------------------------------------------------


@dataclass
class Row:
    size: int
    step: str
    measurement: str
    result: str
    ratio: str = ""
    target: str = ""
    met: str = ""


def _ratio(value_ms: float, floor_ms: float) -> str:
    return f"{value_ms / floor_ms:.1f}x"


def _ms(value: float) -> str:
    return f"{value:.3f} ms" if value < 1 else f"{value:.2f} ms"


def _mark(ok: bool) -> str:
    return "✓" if ok else "✗"


def render(header: list[str], rows: list[Row], notes: list[str]) -> str:
    heading = ["attrs", "#", "measurement", "result", "x floor", "target", "met"]
    align = [">", "<", "<", "<", ">", "<", "<"]
    cells = [
        [str(row.size), row.step, row.measurement, row.result, row.ratio, row.target, row.met]
        for row in rows
    ]
    widths = [max(len(line[i]) for line in [heading, *cells]) for i in range(len(heading))]

    def line(values: list[str]) -> str:
        return "  ".join(
            f"{value:{a}{w}}" for value, a, w in zip(values, align, widths, strict=True)
        ).rstrip()

    out = [*header, "", line(heading), line(["-" * width for width in widths])]
    for index, values in enumerate(cells):
        if index and rows[index].size != rows[index - 1].size:
            out.append("")
        out.append(line(values))
    return "\n".join([*out, "", *notes])


# The run ----------------------------------------------------------------------------------------


class Clock:
    """Progress on stderr; the table alone goes to stdout."""

    def __init__(self) -> None:
        self.start = time.monotonic()

    def say(self, message: str) -> None:
        print(f"[{time.monotonic() - self.start:5.0f}s] {message}", file=sys.stderr, flush=True)


@dataclass
class Measured:
    """What the gunicorn rows of a size compare with."""

    floor_ms: float
    django_ms: float


@dataclass
class Bench:
    options: Options
    workdir: Path
    database_url: str
    cache_url: str | None
    profile_sid: str
    specs: dict[int, ResponseSpec]
    signer: Signer
    floor: Floor
    clock: Clock = field(default_factory=Clock)

    @property
    def acs_path(self) -> str:
        return f"/sso/saml2/{self.profile_sid}/acs/"

    @property
    def expected_location(self) -> str:
        """Where a successful login lands (a refusal lands elsewhere)."""
        from django.urls import reverse

        return load_profile(self.profile_sid).default_redirect_url or reverse("sso:console")

    # Rows 1-4 ---------------------------------------------------------------------------------

    def in_process(self, size: int) -> tuple[list[Row], Measured]:
        from django.test import Client, override_settings
        from djangosaml2.overrides import Saml2Client
        from saml2 import BINDING_HTTP_POST

        from sso.saml.acs import verify_response
        from sso.saml.config import sp_config_for

        warmup = 3
        reps, slow_reps = self.options.reps_for(size), self.options.slow_reps_for(size)
        profile = load_profile(self.profile_sid)
        expected_location = self.expected_location
        count = 1 + slow_reps + 2 * reps + 3 * warmup
        self.clock.say(f"{size} attributes: signing {count} responses")
        request_ids = outstanding_requests(self.profile_sid, count)
        fresh = iter(self.signer.responses(self.specs[size], request_ids))

        def take(reps: int) -> list[str]:
            return [next(fresh) for _ in range(reps + warmup)]

        def pysaml2_default(saml_response: str) -> None:
            client = Saml2Client(sp_config_for(profile, allow_unsolicited=True))
            verified = client.parse_authn_request_response(saml_response, BINDING_HTTP_POST, {})
            if verified is None or verified.assertion is None or verified.name_id.text != EMAIL:
                raise RuntimeError("pysaml2 did not verify the response")

        def configured(saml_response: str) -> None:
            login = verify_response(
                profile=profile, saml_response=saml_response, token=BROWSER_TOKEN
            )
            if login.email != EMAIL:
                raise RuntimeError("verify_response returned another person")

        browser = Client()  # one handler: a new Client loads the middleware again (~15 ms)

        def through_django(saml_response: str) -> None:
            browser.cookies.clear()  # each login a new session, the request-binding cookie only
            browser.cookies[_request_cookie_name()] = BROWSER_TOKEN
            response = browser.post(self.acs_path, {"SAMLResponse": saml_response})
            location = response.get("Location", "")
            if response.status_code != 302 or location != expected_location:
                raise RuntimeError(f"the ACS answered {response.status_code} {location}")

        one = next(fresh)  # the floor is a pure function: one response will do
        self.floor(one)  # checks both digests and both signatures once
        # The target is a ratio: its two terms are timed in alternating blocks. The floor is
        # a tenth of a millisecond a call: five times the repetitions, at least 1000.
        floor_ms, configured_ms = interleaved_medians_ms(
            self.floor,
            one,
            configured,
            take(reps),
            floor_reps=max(5 * reps, 1000),
            blocks=max(1, min(10, reps // 20)),  # blocks of at least 20 calls: warm ones
            warmup=warmup,
        )
        self.clock.say(f"{size} attributes: floor {floor_ms:.3f} ms")
        self.clock.say(f"{size} attributes: configured path {configured_ms:.2f} ms")
        with override_settings(SSO_SIGNATURE_BACKEND="xmlsec1"):
            pysaml2_ms = median_ms(pysaml2_default, take(slow_reps), warmup=warmup)
        self.clock.say(f"{size} attributes: pysaml2 default {pysaml2_ms:.2f} ms")
        django_ms = median_ms(through_django, take(reps), warmup=warmup)
        self.clock.say(f"{size} attributes: ACS view {django_ms:.2f} ms")

        figures = {
            "floor: parse; 2x exc-c14n, SHA-256, RSA verify": floor_ms,
            "pysaml2 default (xmlsec1 program)": pysaml2_ms,
            f"configured path: verify_response ({_backend()})": configured_ms,
            "ACS view, django.test.Client, DB writes": django_ms,
        }
        rows = [
            Row(size, str(step), name, _ms(value), _ratio(value, floor_ms))
            for step, (name, value) in enumerate(figures.items(), start=1)
        ]
        if size in TARGET_RATIO_SIZES:
            rows[2].target = f"<= {TARGET_RATIO:g}x floor"
            rows[2].met = _mark(configured_ms <= TARGET_RATIO * floor_ms)
        return rows, Measured(floor_ms, django_ms)

    # Row 5 ------------------------------------------------------------------------------------

    def under_load(self, server: Gunicorn, size: int, measured: Measured) -> list[Row]:
        """A load loop of `seconds`, with bodies for 1.5 times the rate the ACS view suggests."""
        expected_rate = GUNICORN_WORKERS * 1000 / max(measured.django_ms, 0.1)
        count = int(min(200_000, max(200, 1.5 * expected_rate * self.options.seconds)))
        warmup = 4 * self.options.clients
        self.clock.say(f"{size} attributes: signing {count + warmup} bodies for gunicorn")
        request_ids = outstanding_requests(self.profile_sid, count + warmup, self.cache_url)
        bodies = self.signer.bodies(self.specs[size], request_ids)
        self._load(server, iter(bodies[:warmup]))
        self.clock.say(f"{size} attributes: load loop, up to {self.options.seconds:g} s")
        result = self._load(server, iter(bodies[warmup:]), seconds=self.options.seconds)
        self.clock.say(f"{size} attributes: {result.summary()}")

        floor_ms = measured.floor_ms
        p50, p99 = result.latency_ms(0.50), result.latency_ms(0.99)
        per_login_ms = 1000 / result.per_second if result.per_second else float("inf")
        failed = f", {result.failed} failed" if result.failed else ""
        rate = Row(
            size,
            "5",
            f"gunicorn {GUNICORN_WORKERS} workers, {self.options.clients} clients: logins/s",
            f"{result.per_second:.0f}/s ({result.ok} in {result.elapsed:.1f} s{failed})",
            _ratio(per_login_ms, floor_ms),
        )
        latency = Row(
            size,
            "5",
            "gunicorn: latency p50 / p99",
            f"{p50:.1f} / {p99:.1f} ms",
            f"{p50 / floor_ms:.0f}x / {p99 / floor_ms:.0f}x",
        )
        if size == TARGET_LOAD_SIZE:
            rate.target = f">= {TARGET_LOGINS_PER_SECOND:g}/s"
            rate.met = _mark(result.per_second >= TARGET_LOGINS_PER_SECOND and not result.failed)
            latency.target = f"p99 < {TARGET_P99_MS:g} ms"
            latency.met = _mark(p99 < TARGET_P99_MS)
        return [rate, latency]

    # Row 6 ------------------------------------------------------------------------------------

    def memory(self, size: int) -> tuple[list[Row], str]:
        """Each worker's VmRSS on a fresh server: after a warm-up, and after `logins` more."""
        logins = self.options.logins
        warmup = min(1_000, max(100, logins // 20))
        path = self.workdir / "logins.txt"
        self.clock.say(f"{size} attributes: signing {warmup + logins} bodies for the RSS run")
        signed_at = time.monotonic()
        request_ids = outstanding_requests(self.profile_sid, warmup + logins, self.cache_url)
        self.signer.bodies_to_file(self.specs[size], request_ids, path)
        self.clock.say(f"signed in {time.monotonic() - signed_at:.0f} s")
        with (
            Gunicorn(self.database_url, self.workdir, self.cache_url) as server,
            path.open("rb") as file,
        ):
            self._load(server, itertools.islice(file, warmup))
            workers = server.workers()
            before = {pid: rss_mb(pid) for pid in workers}
            self.clock.say(f"RSS run: {logins} logins, workers {before}")
            result = self._load(
                server, file, progress=lambda done: self.clock.say(f"  {done} logins")
            )
            after = {pid: rss_mb(pid) for pid in server.workers() if pid in before}
        path.unlink()
        self.clock.say(f"RSS run: {result.summary()}")

        comparable = logins >= TARGET_RSS_LOGINS
        rows = []
        for pid in workers:
            row = Row(size, "6", f"worker {pid} VmRSS, {result.ok} logins", "", "-")
            row.target = f"growth < {TARGET_RSS_GROWTH_MB:g} MB / {TARGET_RSS_LOGINS} logins"
            if pid not in after:
                row.result, row.met = "the worker was restarted", "✗"
            else:
                growth = after[pid] - before[pid]
                row.result = f"{before[pid]:.1f} -> {after[pid]:.1f} MB ({growth:+.1f} MB)"
                ok = growth < TARGET_RSS_GROWTH_MB and not result.failed
                row.met = _mark(ok) if comparable else "n/a"
            rows.append(row)
        note = f"RSS run (after {warmup} warm-up logins on a fresh server): {result.summary()}"
        if not comparable:
            note += f"; the RSS target is judged with --logins {TARGET_RSS_LOGINS}"
        return rows, note

    def _load(
        self,
        server: Gunicorn,
        bodies: Iterator[bytes],
        *,
        seconds: float | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> LoadResult:
        return load(
            server.port,
            self.acs_path,
            bodies,
            expected_location=self.expected_location,
            clients=self.options.clients,
            seconds=seconds,
            progress=progress,
        )


def _backend() -> str:
    from django.conf import settings

    return str(settings.SSO_SIGNATURE_BACKEND)


def _specs(profile: SSOProfile, sizes: Sequence[int]) -> dict[int, ResponseSpec]:
    # Valid long enough for the slowest run; each response still gets fresh IDs when signed.
    valid_until = dt.datetime.now(dt.UTC) + dt.timedelta(hours=6)
    return {
        size: ResponseSpec.for_profile(
            profile, email=EMAIL, attributes=attributes_for(size), not_on_or_after=valid_until
        )
        for size in sizes
    }


def run(options: Options) -> str:
    workdir = Path(tempfile.mkdtemp(prefix="acs-bench-"))
    signer: Signer | None = None
    redis = RedisServer(workdir)
    try:
        database_url = setup_django(workdir)
        from tests.factories import shared_idp_keys

        header = machine_lines(redis.url)
        profile = create_profile()
        keys = shared_idp_keys()  # generated for this run
        signer = Signer(keys, profile.idp_issuer)
        bench = Bench(
            options=options,
            workdir=workdir,
            database_url=database_url,
            cache_url=redis.url,
            profile_sid=profile.sid,
            specs=_specs(profile, options.sizes),
            signer=signer,
            floor=Floor(keys.certificate_pem),
        )
        bench.clock.say(f"Django ready on {workdir}")

        rows: dict[int, list[Row]] = {}
        measured: dict[int, Measured] = {}
        for size in options.sizes:
            rows[size], measured[size] = bench.in_process(size)
        with Gunicorn(database_url, workdir, redis.url) as server:
            bench.clock.say(f"gunicorn on 127.0.0.1:{server.port}, workers {server.workers()}")
            for size in options.sizes:
                rows[size] += bench.under_load(server, size, measured[size])
        notes = [
            "x floor: the figure over the floor of the same size in this run; for logins/s, "
            "the wall time per login (1/rate) over the floor.",
        ]
        if options.logins > 0:
            memory_rows, note = bench.memory(options.sizes[0])
            rows[options.sizes[0]] += memory_rows
            notes.append(note)

        reps = ", ".join(
            f"{size}: {options.reps_for(size)} ({options.slow_reps_for(size)} for #2)"
            for size in options.sizes
        )
        header.append(
            f"medians of fresh responses (Response and Assertion signed, RSA-2048/SHA-256), "
            f"reps {reps}; load loops {options.clients} client threads, "
            f"<= {options.seconds:g} s; total {time.monotonic() - bench.clock.start:.0f} s"
        )
        return render(header, [row for size in options.sizes for row in rows[size]], notes)
    finally:
        redis.stop()
        if signer is not None:
            signer.close()
        if options.keep:
            print(f"kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    print(run(parse_options(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
