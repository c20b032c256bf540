"""Certificate expiry notices: owners and admins hear once per threshold, with what to do."""

from __future__ import annotations

import datetime as dt
from http import HTTPStatus

import pytest
from cryptography import x509
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from sso.jobs.services import job_lease_take, job_run
from sso.models import ExpiryNotice, JobRun, ProfileStatus, Role
from sso.profiles.expiry import certificate_expiry_notify
from tests.factories import IdPCertificateFactory, MembershipFactory, SSOProfileFactory
from tests.fixtures.mail import CrashAfterFirstSendBackend

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


@pytest.fixture
def certificate(owner):
    """An active profile's IdP certificate expiring in 100 days; the org has an owner, an admin
    and a member."""
    MembershipFactory(organization=owner.organization, role=Role.ADMIN, user__email="a@acme.test")
    MembershipFactory(organization=owner.organization, role=Role.MEMBER, user__email="m@acme.test")
    profile = SSOProfileFactory(organization=owner.organization, status=ProfileStatus.ACTIVE)
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


def test_expiry_notice_for_the_sp_certificate_says_to_contact_support(owner):
    profile = SSOProfileFactory(organization=owner.organization, status=ProfileStatus.TESTED)
    sp_expiry = x509.load_pem_x509_certificate(
        profile.sp_certificate_pem.encode()
    ).not_valid_after_utc

    certificate_expiry_notify(now=sp_expiry - 6 * DAY)
    certificate_expiry_notify(now=sp_expiry - 5 * DAY)

    [message] = mail.outbox
    assert message.subject.startswith("SP certificate of SSO profile")
    assert "contact support" in message.body


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
