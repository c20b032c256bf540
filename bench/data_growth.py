"""Data-growth benchmark: the pages support staff and admins open, at a million login events.

Run `make bench-data` (a throwaway PostgreSQL from scripts/services.sh), or with DATABASE_URL
naming an empty PostgreSQL database: `.venv/bin/python bench/data_growth.py`. It migrates,
seeds one organization with 100,000 members and 1,000,000 login events of its profile (in SQL,
generate_series: about a minute), then times each page through Django's test client, the ACS
with a genuinely signed response (tests/fixtures/idp.py), and prints one table. Every page must
answer in under 300 ms; the exit status is 1 when one does not.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script: the project and its test fixtures (tests/ is not installed) are importable.
sys.path.insert(0, str(ROOT))

TARGET_MS = 300.0
DOMAIN = "acme.test"


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adminsite.settings_test")
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("DATABASE_URL must name an empty PostgreSQL database (see `make bench-data`)")
    import django
    from django.core.management import call_command

    django.setup()
    logging.disable(logging.INFO)
    warnings.simplefilter("ignore")
    call_command("migrate", verbosity=0)


def seed(*, events: int, members: int) -> dict[str, object]:
    """One organization, its active profile trusting acme.test, members and login events."""
    from django.db import connection
    from django.db.models import Max

    from sso.models import LoginEvent, Membership, Organization, Role
    from tests.factories import ActiveProfileFactory, UserFactory

    profile = ActiveProfileFactory(allow_idp_initiated=True)  # trusts acme.test
    organization = profile.organization
    fingerprint = profile.certificates.get().fingerprint_sha256
    owner = UserFactory(email=f"owner@{DOMAIN}")
    Membership.objects.create(user=owner, organization=organization, role=Role.OWNER)
    staff = UserFactory(email="support@example.test", is_staff=True, is_superuser=True)
    with connection.cursor() as cursor:
        # A password hash nobody can use: the members sign in through SSO.
        cursor.execute(
            """
            INSERT INTO sso_user (password, is_superuser, email, first_name, last_name,
                                  is_staff, is_active, date_joined, session_epoch)
            SELECT '!', false, 'person' || i || '@acme.test', 'First' || i, 'Last' || i,
                   false, true, now() - i * interval '1 minute', 0
            FROM generate_series(1, %s) AS i
            """,
            [members],
        )
        cursor.execute(
            """
            INSERT INTO sso_membership (user_id, organization_id, role, created_just_in_time,
                                        break_glass, last_sign_in_method, created_at)
            SELECT id, %s, 'member', true, false, 'sso', date_joined
            FROM sso_user WHERE email LIKE 'person%%@acme.test'
            """,
            [organization.pk],
        )
        # One event every 30 s going back about a year (inside the retention period); one in
        # ten a failure; the connection tests long ago, so their lookup cannot stop early.
        cursor.execute(
            """
            INSERT INTO sso_loginevent (organization_id, profile_id, profile_sid, created_at,
                outcome, reason, is_test, email, idp_issuer, assertion_id, in_response_to,
                detail)
            SELECT %(org)s, %(profile)s, %(sid)s, now() - i * interval '30 seconds',
                CASE WHEN i %% 10 = 0 THEN 'failure' ELSE 'success' END,
                CASE WHEN i %% 10 = 0 THEN 'signature_invalid' ELSE 'ok' END,
                i > %(events)s - 3,
                'person' || (i %% %(members)s + 1) || '@acme.test', %(issuer)s,
                '_' || md5(i::text), '',
                CASE WHEN i %% 10 = 0 THEN '{}'::jsonb
                     ELSE jsonb_build_object('verified_with', %(fingerprint)s) END
            FROM generate_series(1, %(events)s) AS i
            """,
            {
                "org": organization.pk,
                "profile": profile.pk,
                "sid": profile.sid,
                "events": events,
                "members": members,
                "issuer": profile.idp_issuer,
                "fingerprint": fingerprint,
            },
        )
        cursor.execute(
            "UPDATE sso_loginevent SET outcome = 'failure', reason = 'replayed_assertion' "
            "WHERE id = (SELECT min(id) FROM sso_loginevent)"
        )
        cursor.execute("ANALYZE")
    return {
        "profile": profile,
        "organization": Organization.objects.get(pk=organization.pk),
        "owner": owner,
        "staff": staff,
        "event_id": LoginEvent.objects.aggregate(Max("id"))["id__max"],
    }


class SQLClock:
    """Counts the queries a call makes and the time spent waiting on them."""

    def __init__(self) -> None:
        self.queries = 0
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):  # noqa: ANN001, ANN204
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - start
            self.queries += 1


def timed(call: Callable[[], int], reps: int) -> dict[str, float]:
    """Medians of `reps` calls after one warm-up call, in milliseconds: wall time, this
    process's CPU time, time waiting on SQL; the worst wall time; queries per call."""
    from django.db import connection

    call()
    wall, cpu, sql, queries = [], [], [], 0
    for _ in range(reps):
        clock = SQLClock()
        with connection.execute_wrapper(clock):
            start, start_cpu = time.perf_counter(), time.process_time()
            status = call()
            wall.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
        sql.append(clock.seconds * 1000)
        queries = clock.queries
        if status not in (200, 302):
            raise RuntimeError(f"answered {status}")
    return {
        "median": statistics.median(wall),
        "worst": max(wall),
        "cpu": statistics.median(cpu),
        "sql": statistics.median(sql),
        "queries": queries,
    }


def pages(seeded: dict[str, object]) -> list[tuple[str, str, dict[str, str], str]]:
    """(label, URL, query, who) for every page timed."""
    from django.urls import reverse

    profile = seeded["profile"]
    organization = seeded["organization"]
    sid = profile.sid  # type: ignore[attr-defined]
    admin = "staff"
    return [
        ("admin: login events", reverse("admin:sso_loginevent_changelist"), {}, admin),
        (
            "admin: login events, search by email",
            reverse("admin:sso_loginevent_changelist"),
            {"q": "person4242@acme.test"},
            admin,
        ),
        (
            "admin: login events, filtered by reason",
            reverse("admin:sso_loginevent_changelist"),
            {"reason": "signature_invalid"},
            admin,
        ),
        (
            "admin: login events, a reason seen once",
            reverse("admin:sso_loginevent_changelist"),
            {"reason": "replayed_assertion"},
            admin,
        ),
        (
            "admin: login events, connection tests",
            reverse("admin:sso_loginevent_changelist"),
            {"is_test__exact": "1"},
            admin,
        ),
        (
            "admin: one login event",
            reverse("admin:sso_loginevent_change", args=[seeded["event_id"]]),
            {},
            admin,
        ),
        ("admin: audit events", reverse("admin:sso_auditevent_changelist"), {}, admin),
        ("admin: users", reverse("admin:sso_user_changelist"), {}, admin),
        (
            "admin: users, search by email",
            reverse("admin:sso_user_changelist"),
            {"q": "person4242@acme.test"},
            admin,
        ),
        ("admin: organizations", reverse("admin:sso_organization_changelist"), {}, admin),
        (
            "admin: organization change page",
            reverse("admin:sso_organization_change", args=[organization.pk]),  # type: ignore[attr-defined]
            {},
            admin,
        ),
        (
            "admin: the organization's members",
            reverse("admin:sso_membership_changelist"),
            {"organization__id__exact": str(organization.pk)},  # type: ignore[attr-defined]
            admin,
        ),
        ("admin: SSO profiles", reverse("admin:sso_ssoprofile_changelist"), {}, admin),
        (
            "admin: SSO profile change page",
            reverse("admin:sso_ssoprofile_change", args=[profile.pk]),  # type: ignore[attr-defined]
            {},
            admin,
        ),
        ("wizard: IdP metadata step", reverse("sso:wizard_idp_metadata", args=[sid]), {}, "owner"),
        ("wizard: test step", reverse("sso:wizard_test", args=[sid]), {}, "owner"),
        (
            "admin center: login events",
            reverse("sso:profile_login_events", args=[sid]),
            {},
            "owner",
        ),
        ("admin center: audit log", reverse("sso:admin_audit_log"), {}, "owner"),
    ]


def acs_call(seeded: dict[str, object]) -> Callable[[], int]:
    """A successful IdP-initiated sign-in of a member, a fresh signed response each call."""
    from django.test import Client
    from django.urls import reverse

    from tests.factories import shared_idp_keys
    from tests.fixtures.idp import ResponseSpec, TestIdP, encode, new_id

    profile = seeded["profile"]
    idp = TestIdP(shared_idp_keys(), entity_id=profile.idp_issuer)  # type: ignore[attr-defined]
    spec = ResponseSpec.for_profile(profile, email="person77@acme.test")
    url = reverse("sso:saml2_acs", args=[profile.sid])  # type: ignore[attr-defined]
    browser = Client()
    signed: list[str] = []

    def prepare() -> None:
        fresh = spec.replace(response_id=new_id(), assertion_id=new_id())
        signed.append(encode(idp.signxml_response(fresh)))

    def call() -> int:
        browser.cookies.clear()
        response = browser.post(url, {"SAMLResponse": signed.pop()})
        if response.status_code != 302:
            raise RuntimeError(f"the ACS refused the sign-in: {response.status_code}")
        return response.status_code

    call.prepare = prepare  # type: ignore[attr-defined]
    return call


def explain(seeded: dict[str, object]) -> None:
    """The query plans of the wizard's reads of the login events (one index each)."""
    from sso.events import last_connection_test, login_events_for
    from sso.models import LoginEvent, LoginOutcome
    from sso.profiles.selectors import CERTIFICATE_USE_DAYS

    profile = seeded["profile"]
    fingerprint = profile.certificates.get().fingerprint_sha256  # type: ignore[attr-defined]
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=CERTIFICATE_USE_DAYS)
    queries = {
        "certificate_last_used": LoginEvent.objects.filter(
            profile=profile,
            outcome=LoginOutcome.SUCCESS,
            is_test=False,
            created_at__gte=since,
            detail__verified_with=fingerprint,
        ).values_list("created_at", flat=True)[:1],
        "last_connection_test": login_events_for(profile=profile).filter(is_test=True)[:1],
        "login_events_for": login_events_for(profile=profile)[:100],
    }
    assert last_connection_test(profile=profile) is not None  # type: ignore[arg-type]
    for name, queryset in queries.items():
        print(f"\n{name}:\n{queryset.explain(analyze=True)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument(
        "--explain", action="store_true", help="print the plans of the wizard's event queries"
    )
    options = parser.parse_args()
    setup_django()
    from django.db import connection
    from django.test import Client

    start = time.perf_counter()
    seeded = seed(events=options.events, members=options.members)
    print(
        f"Seeded {options.events:,} login events and {options.members:,} members in "
        f"{time.perf_counter() - start:.0f} s (PostgreSQL {connection.pg_version // 10000}); "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores."
    )
    clients = {"staff": Client(), "owner": Client()}
    clients["staff"].force_login(seeded["staff"])
    clients["owner"].force_login(seeded["owner"])
    rows = []
    for label, url, query, who in pages(seeded):
        client = clients[who]

        def call(client: Client = client, url: str = url, query: dict = query) -> int:
            return client.get(url, query).status_code

        rows.append((label, timed(call, options.reps)))
    acs = acs_call(seeded)
    for _ in range(options.reps + 1):
        acs.prepare()  # type: ignore[attr-defined]
    rows.append(("ACS: successful sign-in", timed(acs, options.reps)))
    if options.explain:
        explain(seeded)

    width = max(len(row[0]) for row in rows)
    print(
        f"\n{'page':<{width}}  median ms  worst ms  CPU ms  SQL ms  queries  "
        f"under {TARGET_MS:.0f} ms"
    )
    failed = False
    for label, t in rows:
        ok = t["median"] < TARGET_MS
        failed |= not ok
        print(
            f"{label:<{width}}  {t['median']:9.1f}  {t['worst']:8.1f}  {t['cpu']:6.1f}  "
            f"{t['sql']:6.1f}  {t['queries']:7d}  {'yes' if ok else 'NO'}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
