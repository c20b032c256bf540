"""ACS benchmark: what verifying one SAML login costs, from the bare cryptography up to gunicorn.

Run `.venv/bin/python bench/acs.py` (or `make bench`); `--quick` for a smoke run. It sets up
Django on a throwaway SQLite database, generates its own IdP key, signs its own responses
(Response and Assertion, RSA-2048/SHA-256, with tests/fixtures/idp.py) and prints one table.
See bench/README.md for what each row means, and which module does which job.
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script: the project, its test fixtures (tests/ is not installed) and the benchmark's
# own modules (bench.*) are importable.
sys.path.insert(0, str(ROOT))

from bench.floor import Floor  # noqa: E402
from bench.load import LoadResult, load, rss_mb  # noqa: E402
from bench.project import (  # noqa: E402
    create_profile,
    load_profile,
    setup_django,
    signature_backend,
)
from bench.report import Row, machine_lines, mark, ms, ratio, render  # noqa: E402
from bench.signing import (  # noqa: E402
    BROWSER_TOKEN,
    EMAIL,
    Signer,
    outstanding_requests,
    request_cookie_name,
    response_specs,
)
from bench.timing import Clock, interleaved_medians_ms, median_ms  # noqa: E402
from tests.fixtures.idp import ResponseSpec  # noqa: E402
from tests.fixtures.servers import Gunicorn, RedisServer  # noqa: E402

CLIENT_THREADS = 4
GUNICORN_WORKERS = 2
TARGET_RATIO = 10.0
TARGET_RATIO_SIZES = (5, 500)
TARGET_LOAD_SIZE = 5  # the login rate and latency targets are for 5-attribute responses
TARGET_LOGINS_PER_SECOND = 300.0
TARGET_P99_MS = 50.0
TARGET_RSS_GROWTH_MB = 20.0
TARGET_RSS_LOGINS = 100_000


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


# The run ----------------------------------------------------------------------------------------


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

    def gunicorn(self) -> Gunicorn:
        """gunicorn on this run's database and shared cache (and this DJANGO_SETTINGS_MODULE)."""
        env = {**os.environ, "DATABASE_URL": self.database_url}
        if self.cache_url:
            env["CACHE_URL"] = self.cache_url
        return Gunicorn(env=env, log_path=self.workdir / "gunicorn.log", workers=GUNICORN_WORKERS)

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
            if login.name_id != EMAIL:
                raise RuntimeError("verify_response returned another person")

        browser = Client()  # one handler: a new Client loads the middleware again (~15 ms)

        def through_django(saml_response: str) -> None:
            browser.cookies.clear()  # each login a new session, the request-binding cookie only
            browser.cookies[request_cookie_name()] = BROWSER_TOKEN
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
            f"configured path: verify_response ({signature_backend()})": configured_ms,
            "ACS view, django.test.Client, DB writes": django_ms,
        }
        rows = [
            Row(size, str(step), name, ms(value), ratio(value, floor_ms))
            for step, (name, value) in enumerate(figures.items(), start=1)
        ]
        if size in TARGET_RATIO_SIZES:
            rows[2].target = f"<= {TARGET_RATIO:g}x floor"
            rows[2].met = mark(configured_ms <= TARGET_RATIO * floor_ms)
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
            ratio(per_login_ms, floor_ms),
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
            rate.met = mark(result.per_second >= TARGET_LOGINS_PER_SECOND and not result.failed)
            latency.target = f"p99 < {TARGET_P99_MS:g} ms"
            latency.met = mark(p99 < TARGET_P99_MS)
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
            self.gunicorn() as server,
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
                row.met = mark(ok) if comparable else "n/a"
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
            specs=response_specs(profile, options.sizes),
            signer=signer,
            floor=Floor(keys.certificate_pem),
        )
        bench.clock.say(f"Django ready on {workdir}")

        rows: dict[int, list[Row]] = {}
        measured: dict[int, Measured] = {}
        for size in options.sizes:
            rows[size], measured[size] = bench.in_process(size)
        with bench.gunicorn() as server:
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
