"""SP key rollover: both certificates in our metadata during the overlap, then the new key signs
AuthnRequests and the old one is withdrawn; one rollover at a time; audited."""

from __future__ import annotations

import datetime as dt
from http import HTTPStatus

import pytest
from cryptography.exceptions import InvalidSignature
from django.core.exceptions import ValidationError
from django.urls import reverse
from lxml import etree

from sso.crypto import certificate_body, decrypt_private_key, fingerprint_of
from sso.models import AuditAction, AuditEvent, IdPKind, SSOProfile
from sso.profiles.metadata_refresh import profile_metadata_approve
from sso.profiles.presets import preset_for
from sso.profiles.services import profile_configure
from sso.profiles.sp_keys import (
    profile_sp_key_rollover_finish,
    profile_sp_key_rollover_start,
    sp_keys_rollover_due,
)
from tests.factories import ActiveProfileFactory, SSOProfileFactory
from tests.views.test_saml import verify_redirect_signature

pytestmark = pytest.mark.django_db

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
KEYS = (
    "sp_certificate_pem",
    "sp_private_key_encrypted",
    "sp_next_certificate_pem",
    "sp_next_private_key_encrypted",
    "sp_rollover_ends_at",
)


def published_certificates(client, profile) -> list[str]:
    response = client.get(reverse("sso:saml2_metadata", args=[profile.sid]))
    assert response.status_code == HTTPStatus.OK
    descriptor = etree.fromstring(response.content).find(f"{{{MD}}}SPSSODescriptor")
    return [
        key.find(f".//{{{DS}}}X509Certificate").text.strip()
        for key in descriptor.findall(f"{{{MD}}}KeyDescriptor")
        if key.get("use") == "signing"
    ]


def login_location(client, profile) -> str:
    response = client.get(reverse("sso:saml2_login", args=[profile.sid]))
    assert response.status_code == HTTPStatus.FOUND
    return response["Location"]


def test_rollover_publishes_both_certificates_during_the_overlap(client):
    profile = ActiveProfileFactory()
    old = profile.sp_certificate_pem
    before = dt.datetime.now(dt.UTC)

    profile_sp_key_rollover_start(profile=profile, actor=None)

    profile.refresh_from_db()
    assert published_certificates(client, profile) == [
        certificate_body(old),
        certificate_body(profile.sp_next_certificate_pem),
    ]
    ends = profile.sp_rollover_ends_at
    assert before + dt.timedelta(days=30) <= ends <= before + dt.timedelta(days=30, minutes=1)
    # The current key still signs until the switch.
    verify_redirect_signature(login_location(client, profile), old)
    # The next private key is encrypted at rest like the current one.
    assert "PRIVATE" not in profile.sp_next_private_key_encrypted
    decrypt_private_key(profile.sp_next_private_key_encrypted)
    audit = AuditEvent.objects.get(action=AuditAction.SP_KEY_ROLLOVER_STARTED)
    assert audit.changes["next_certificate"] == fingerprint_of(
        certificate_body(profile.sp_next_certificate_pem)
    )


def test_rollover_finished_signs_with_the_new_key_and_withdraws_the_old(client):
    profile = ActiveProfileFactory()
    old = profile.sp_certificate_pem
    profile_sp_key_rollover_start(profile=profile, actor=None)
    new = profile.sp_next_certificate_pem

    profile_sp_key_rollover_finish(profile=profile, actor=None)

    profile.refresh_from_db()
    assert published_certificates(client, profile) == [certificate_body(new)]
    location = login_location(client, profile)
    verify_redirect_signature(location, new)
    with pytest.raises(InvalidSignature):
        verify_redirect_signature(location, old)
    assert (profile.sp_next_certificate_pem, profile.sp_rollover_ends_at) == ("", None)
    audit = AuditEvent.objects.get(action=AuditAction.SP_KEY_ROLLOVER_FINISHED)
    assert audit.changes["withdrawn_certificate"] == fingerprint_of(certificate_body(old))


def test_rollover_second_one_refused_while_one_is_under_way():
    profile = SSOProfileFactory()
    profile_sp_key_rollover_start(profile=profile, actor=None)
    next_certificate = profile.sp_next_certificate_pem

    with pytest.raises(ValidationError) as refused:
        profile_sp_key_rollover_start(profile=SSOProfile.objects.get(pk=profile.pk), actor=None)

    assert refused.value.code == "sp_key_rollover_under_way"
    profile.refresh_from_db()
    assert profile.sp_next_certificate_pem == next_certificate


def test_rollover_finish_refused_without_one_under_way():
    with pytest.raises(ValidationError) as refused:
        profile_sp_key_rollover_finish(profile=SSOProfileFactory(), actor=None)

    assert refused.value.code == "sp_key_no_rollover"


def test_rollover_due_finishes_only_overlaps_that_ended():
    now = dt.datetime.now(dt.UTC)
    ended, running = SSOProfileFactory(), SSOProfileFactory()
    profile_sp_key_rollover_start(profile=ended, actor=None, overlap_days=1, now=now)
    profile_sp_key_rollover_start(profile=running, actor=None, overlap_days=3, now=now)
    new = ended.sp_next_certificate_pem

    assert sp_keys_rollover_due(now=now + dt.timedelta(days=2)) == 1
    assert sp_keys_rollover_due(now=now + dt.timedelta(days=2)) == 0

    ended.refresh_from_db()
    running.refresh_from_db()
    assert (ended.sp_certificate_pem, ended.sp_rollover_ends_at) == (new, None)
    assert running.sp_rollover_ends_at is not None


def test_wizard_step_one_starts_a_rollover_and_says_where_keycloak_needs_it(admin_client, admin):
    profile = SSOProfileFactory(organization=admin.organization, idp_kind=IdPKind.KEYCLOAK)
    step = reverse("sso:wizard_sp_metadata", args=[profile.sid])
    rollover = reverse("sso:wizard_sp_key_rollover", args=[profile.sid])

    response = admin_client.post(rollover, {"action": "start"})

    assert response.status_code == HTTPStatus.FOUND
    profile.refresh_from_db()
    page = admin_client.get(step).content.decode()
    assert certificate_body(profile.sp_next_certificate_pem)[:64] in page
    assert preset_for(IdPKind.KEYCLOAK).sp_certificate_note.split(":")[0] in page
    # A second start is refused with a message, not an error page.
    response = admin_client.post(rollover, {"action": "start"}, follow=True)
    assert "already under way" in response.content.decode()

    admin_client.post(rollover, {"action": "finish"})
    profile.refresh_from_db()
    assert profile.sp_rollover_ends_at is None
    assert (
        AuditEvent.objects.filter(actor=admin.user)
        .filter(
            action__in=[AuditAction.SP_KEY_ROLLOVER_STARTED, AuditAction.SP_KEY_ROLLOVER_FINISHED]
        )
        .count()
        == 2
    )


def test_wizard_rollover_of_another_organizations_profile_is_404(admin_client):
    profile = SSOProfileFactory()

    response = admin_client.post(reverse("sso:wizard_sp_key_rollover", args=[profile.sid]))

    assert response.status_code == HTTPStatus.NOT_FOUND
    profile.refresh_from_db()
    assert profile.sp_rollover_ends_at is None


def test_rollover_start_from_a_copy_loaded_before_a_finish_keeps_the_new_key():
    profile = ActiveProfileFactory()
    stale = SSOProfile.objects.get(pk=profile.pk)
    profile_sp_key_rollover_start(profile=profile, actor=None)
    profile_sp_key_rollover_finish(profile=profile, actor=None)
    current = profile.sp_certificate_pem, profile.sp_private_key_encrypted

    profile_sp_key_rollover_start(profile=stale, actor=None)

    profile.refresh_from_db()
    assert (profile.sp_certificate_pem, profile.sp_private_key_encrypted) == current
    audit = AuditEvent.objects.filter(action=AuditAction.SP_KEY_ROLLOVER_STARTED).latest("pk")
    assert audit.changes["current_certificate"] == fingerprint_of(certificate_body(current[0]))


def _configure_renaming(profile: SSOProfile) -> tuple[str, str]:
    profile_configure(
        profile=profile,
        actor=None,
        name="Renamed",
        idp_kind=profile.idp_kind,
        idp_issuer=profile.idp_issuer,
        idp_sso_url=profile.idp_sso_url,
    )
    return "name", "Renamed"


def _approve_renaming(profile: SSOProfile) -> tuple[str, str]:
    """A held metadata change of the Issuer approved (what a metadata refresh raises)."""
    profile.metadata_pending = {
        "changes": {"idp_issuer": [profile.idp_issuer, "https://renamed.acme.test/saml"]},
        "dismissed": False,
    }
    profile_metadata_approve(profile=profile, actor=None)
    return "idp_issuer", "https://renamed.acme.test/saml"


@pytest.mark.parametrize("save", [_configure_renaming, _approve_renaming])
@pytest.mark.parametrize("when", ["started", "finished"])
def test_profile_saved_from_a_copy_loaded_before_a_rollover_step_keeps_its_keys(when, save):
    """Step 4 saved, or a metadata change approved, with the profile as it was read before the
    rollover started (or finished, by the hourly job) in between: the keys stay as the
    rollover wrote them."""
    profile = ActiveProfileFactory()
    if when == "finished":
        profile_sp_key_rollover_start(profile=profile, actor=None)
    stale = SSOProfile.objects.get(pk=profile.pk)
    if when == "started":
        profile_sp_key_rollover_start(profile=profile, actor=None)
    else:
        profile_sp_key_rollover_finish(profile=profile, actor=None)
    profile.refresh_from_db()
    keys = [getattr(profile, field) for field in KEYS]

    field, saved = save(stale)

    profile.refresh_from_db()
    assert getattr(profile, field) == saved
    assert [getattr(profile, field) for field in KEYS] == keys
