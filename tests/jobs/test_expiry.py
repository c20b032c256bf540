"""Certificate expiry notices: owners and admins hear once per threshold, with what to do."""

from __future__ import annotations

import datetime as dt
from http import HTTPStatus

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from sso.jobs.services import job_lease_take, job_run
from sso.models import ExpiryItem, ExpiryNotice, JobRun, ProfileStatus, Role
from sso.profiles.expiry import certificate_expiry_notify
from sso.profiles.sp_keys import profile_sp_key_rollover_finish, profile_sp_key_rollover_start
from tests.factories import IdPCertificateFactory, MembershipFactory, SSOProfileFactory
from tests.fixtures.mail import CrashAfterFirstSendBackend

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


@pytest.fixture
def team(owner):
    """An organization with an owner, an admin and a member."""
    MembershipFactory(organization=owner.organization, role=Role.ADMIN, user__email="a@acme.test")
    MembershipFactory(organization=owner.organization, role=Role.MEMBER, user__email="m@acme.test")
    return owner.organization


@pytest.fixture
def certificate(team):
    """An active profile's IdP certificate expiring in 100 days."""
    profile = SSOProfileFactory(organization=team, status=ProfileStatus.ACTIVE)
    return IdPCertificateFactory(profile=profile, not_after=timezone.now() + 100 * DAY)


def test_expiry_notices_go_at_60_30_7_and_1_days_each_once_across_runs(certificate):
    expiry = certificate.not_after
    runs = [61 * DAY, 59 * DAY, 59 * DAY, 45 * DAY, 29 * DAY, 28 * DAY, 6 * DAY, 6 * DAY]
    runs += [dt.timedelta(hours=12), dt.timedelta(hours=11), -dt.timedelta(hours=1)]

    for before in runs:
        certificate_expiry_notify(now=expiry - before)

    subjects = [message.subject for message in mail.outbox]
    assert len(subjects) == 8  # four notices, each to the owner and the admin
    assert sorted({tuple(message.to) for message in mail.outbox}) == [
        ("a@acme.test",),
        ("owner@acme.test",),
    ]
    assert [s.rsplit("expires ", 1)[1] for s in subjects[::2]] == [
        "in 59 days",
        "in 29 days",
        "in 6 days",
        "in less than a day",
    ]
    assert sorted(ExpiryNotice.objects.values_list("threshold_days", flat=True)) == [1, 7, 30, 60]
    body = mail.outbox[0].body
    assert "step 4" in body
    assert reverse("sso:wizard_idp_metadata", args=[certificate.profile.sid]) in body


def test_expiry_notice_for_a_certificate_added_late_is_only_the_nearest(certificate):
    certificate_expiry_notify(now=certificate.not_after - 5 * DAY)
    certificate_expiry_notify(now=certificate.not_after - 4 * DAY)

    assert len(mail.outbox) == 2
    assert list(ExpiryNotice.objects.values_list("threshold_days", flat=True)) == [7]


def test_expiry_notice_skipped_while_a_successor_certificate_is_trusted(certificate):
    IdPCertificateFactory(
        profile=certificate.profile,
        fingerprint_sha256="AA:" * 31 + "AA",
        not_after=certificate.not_after + 365 * DAY,
    )

    certificate_expiry_notify(now=certificate.not_after - 20 * DAY)

    assert mail.outbox == []


def test_expiry_notice_for_the_sp_certificate_says_to_start_a_rollover(owner):
    profile = SSOProfileFactory(organization=owner.organization, status=ProfileStatus.TESTED)
    sp_expiry = not_after(profile.sp_certificate_pem)

    certificate_expiry_notify(now=sp_expiry - 6 * DAY)
    certificate_expiry_notify(now=sp_expiry - 5 * DAY)

    [message] = mail.outbox
    assert message.subject.startswith("SP certificate of SSO profile")
    assert "step 1 of the SSO setup (Create the next SP certificate)" in message.body


@pytest.fixture
def rollover(team, monkeypatch):
    """An active profile in an SP key rollover whose next certificate, made by the rollover
    itself, is valid for 100 days (the current one for ten years)."""
    monkeypatch.setattr("sso.crypto.SP_CERTIFICATE_DAYS", 100)
    profile = SSOProfileFactory(organization=team, status=ProfileStatus.ACTIVE)
    return profile_sp_key_rollover_start(profile=profile, actor=None)


def test_expiry_notices_for_the_next_sp_certificate_go_at_60_30_7_and_1_days_each_once(
    rollover,
):
    expiry = not_after(rollover.sp_next_certificate_pem)
    runs = [61 * DAY, 59 * DAY, 59 * DAY, 45 * DAY, 29 * DAY, 28 * DAY, 6 * DAY, 6 * DAY]
    runs += [dt.timedelta(hours=12), dt.timedelta(hours=11), -dt.timedelta(hours=1)]

    for before in runs:
        certificate_expiry_notify(now=expiry - before)

    assert len(mail.outbox) == 8  # four notices, each to the owner and the admin
    subjects = [message.subject for message in mail.outbox[::2]]
    assert all(s.startswith("Next SP certificate of SSO profile") for s in subjects)
    assert [s.rsplit("expires ", 1)[1] for s in subjects] == [
        "in 59 days",
        "in 29 days",
        "in 6 days",
        "in less than a day",
    ]
    fingerprint = x509.load_pem_x509_certificate(
        rollover.sp_next_certificate_pem.encode()
    ).fingerprint(hashes.SHA256())
    assert sorted(
        ExpiryNotice.objects.values_list("item", "fingerprint_sha256", "threshold_days")
    ) == [
        (ExpiryItem.SP_CERTIFICATE, fingerprint.hex(":").upper(), days) for days in (1, 7, 30, 60)
    ]
    body = mail.outbox[0].body
    assert "next SP certificate of the rollover under way" in body
    assert reverse("sso:wizard_sp_metadata", args=[rollover.sid]) in body


def test_expiry_notices_for_the_next_sp_certificate_are_not_repeated_once_it_signs(rollover):
    expiry = not_after(rollover.sp_next_certificate_pem)
    certificate_expiry_notify(now=expiry - 29 * DAY)
    profile_sp_key_rollover_finish(profile=rollover, actor=None)

    certificate_expiry_notify(now=expiry - 28 * DAY)  # the 30-day notice went out already
    certificate_expiry_notify(now=expiry - 6 * DAY)

    assert [message.subject.split(" of SSO")[0] for message in mail.outbox[::2]] == [
        "Next SP certificate",
        "SP certificate",
    ]
    notices = ExpiryNotice.objects.order_by("threshold_days")
    assert [(n.threshold_days, n.item) for n in notices] == [(7, "sp"), (30, "sp")]
    assert len({n.fingerprint_sha256 for n in notices}) == 1  # one certificate, before and after


def test_expiry_notice_not_sent_for_drafts(owner):
    profile = SSOProfileFactory(organization=owner.organization, status=ProfileStatus.DRAFT)
    IdPCertificateFactory(profile=profile, not_after=timezone.now() + 3 * DAY)

    certificate_expiry_notify(now=timezone.now())

    assert mail.outbox == []


def test_expiry_job_of_a_dead_worker_is_taken_over_without_doubling_a_notice(certificate, settings):
    """Worker A sends the first notice, then dies in the second send and never releases its
    lease; once the lease expires worker B takes the job over and sends only the rest."""
    settings.EMAIL_BACKEND = "tests.fixtures.mail.CrashAfterFirstSendBackend"
    CrashAfterFirstSendBackend.sends = 0
    second = IdPCertificateFactory(
        profile=SSOProfileFactory(organization=certificate.profile.organization, status="active"),
        not_after=certificate.not_after + DAY,
    )
    now = certificate.not_after - 20 * DAY
    assert job_lease_take(name="certificate_expiry", owner="A", lease=dt.timedelta(minutes=10))
    with pytest.raises(ConnectionError):
        certificate_expiry_notify(now=now)
    assert ExpiryNotice.objects.count() == 1  # the second notice's row rolled back with it
    assert not job_run(name="certificate_expiry", work=lambda: {}, owner="B").ran

    JobRun.objects.filter(name="certificate_expiry").update(
        lease_until=timezone.now() - dt.timedelta(seconds=1)
    )
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    outcome = job_run(
        name="certificate_expiry", work=lambda: certificate_expiry_notify(now=now), owner="B"
    )

    assert outcome.ran
    assert outcome.result == {"sent": 1, "already_sent": 1, "emails": 2}
    per_certificate = sorted(
        ExpiryNotice.objects.values_list("fingerprint_sha256", "threshold_days")
    )
    assert len(per_certificate) == 2 and {t for _, t in per_certificate} == {30}
    assert len(mail.outbox) == 4  # each notice to the owner and the admin, once
    assert second.profile.name in mail.outbox[-1].subject
    assert JobRun.objects.get(name="certificate_expiry").skipped == 1


@pytest.mark.parametrize(("days_left", "warned"), [(20, True), (40, False)])
def test_sso_page_warns_from_30_days_before_expiry(owner_client, owner, days_left, warned):
    profile = SSOProfileFactory(organization=owner.organization, status=ProfileStatus.ACTIVE)
    IdPCertificateFactory(profile=profile, not_after=timezone.now() + days_left * DAY)

    response = owner_client.get(reverse("sso:admin_sso"))

    assert response.status_code == HTTPStatus.OK
    assert (b'data-expiring="idp"' in response.content) is warned


@pytest.mark.parametrize(("days_left", "warned"), [(20, True), (40, False)])
def test_sso_page_warns_of_the_next_sp_certificate_from_30_days_before_expiry(
    owner_client, owner, monkeypatch, days_left, warned
):
    profile = SSOProfileFactory(organization=owner.organization, status=ProfileStatus.ACTIVE)
    monkeypatch.setattr("sso.crypto.SP_CERTIFICATE_DAYS", days_left)
    profile_sp_key_rollover_start(profile=profile, actor=None)

    response = owner_client.get(reverse("sso:admin_sso"))

    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert ('data-expiring="sp_next"' in page) is warned
    assert ("The next SP certificate of" in page) is warned
    assert 'data-expiring="sp"' not in page  # the current one has ten years left


def not_after(certificate_pem: str) -> dt.datetime:
    return x509.load_pem_x509_certificate(certificate_pem.encode()).not_valid_after_utc
