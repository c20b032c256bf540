"""The demo's SSO profile, for `manage.py seed_demo`: pointed at the demo IdP, its domain
marked verified by the operator, tested for real through the demo IdP, and active. Idempotent:
a later run only brings it up to date (a new HOST/PORT, a regenerated IdP key, the single
logout URL a demo database made before it lacks)."""

from __future__ import annotations

import logging
import secrets
from urllib.parse import parse_qs, urlsplit

from django.http import HttpRequest

from sso.devidp import saml
from sso.domains.services import domain_mark_verified
from sso.login.services import sso_login
from sso.models import IdPKind, Organization, ProfileStatus, SSOProfile, TrustedDomain, User
from sso.profiles.services import (
    profile_activate,
    profile_configure,
    profile_create,
    profile_remove_certificate,
)
from sso.reasons import Reason
from sso.saml.authn import authn_request_url
from sso.validators import parse_certificate

logger = logging.getLogger(__name__)

PROFILE_NAME = "Demo IdP"


class DemoSeedError(Exception):
    """The seeded profile's real connection test did not pass."""


def demo_profile_ensure(*, organization: Organization, owner: User) -> SSOProfile:
    """The organization's "Demo IdP" profile, configured, tested and active."""
    profile = SSOProfile.objects.filter(organization=organization, name=PROFILE_NAME).first()
    if profile is None:
        profile = profile_create(
            organization=organization, actor=None, name=PROFILE_NAME, idp_kind=IdPKind.OTHER
        )
    certificate = parse_certificate(saml.certificate_pem())
    stale = [
        c.fingerprint_sha256
        for c in profile.certificates.all()
        if c.fingerprint_sha256 != certificate.fingerprint_sha256
    ]
    changed = bool(stale) or profile.status in (ProfileStatus.DRAFT, ProfileStatus.CONFIGURED)
    if len(stale) > 1:  # room for the new certificate (two at most)
        profile_remove_certificate(
            profile=profile, actor=None, fingerprint=stale.pop(), confirmed=True
        )
    if (profile.idp_issuer, profile.idp_sso_url) != (saml.entity_id(), saml.sso_url()) or stale:
        changed = True
    profile = profile_configure(
        profile=profile,
        actor=None,
        name=PROFILE_NAME,
        idp_kind=IdPKind.OTHER,
        idp_issuer=saml.entity_id(),
        idp_sso_url=saml.sso_url(),
        idp_slo_url=saml.slo_url(),
        certificates=[certificate],
        domains=[saml.DEMO_DOMAIN],
    )
    for fingerprint in stale:
        profile_remove_certificate(
            profile=profile, actor=None, fingerprint=fingerprint, confirmed=True
        )
    domain = TrustedDomain.objects.get(profile=profile, domain=saml.DEMO_DOMAIN)
    if not domain.is_verified:
        domain_mark_verified(domain=domain, actor=None, how="operator (seed_demo)")
    if changed or profile.status not in (ProfileStatus.TESTED, ProfileStatus.ACTIVE):
        _connection_test(profile=profile, tester=owner)
        profile.refresh_from_db()
    if profile.status != ProfileStatus.ACTIVE:
        profile_activate(profile=profile, actor=None)
    return profile


def _connection_test(*, profile: SSOProfile, tester: User) -> None:
    """The wizard's "Test connection", run in process: our SP's signed AuthnRequest, the demo
    IdP's signed Response for grace, and the ACS's own verification of it."""
    token = secrets.token_urlsafe(32)
    url = authn_request_url(profile=profile, relay_state="", token=token, tester_id=tester.pk)
    query = {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}
    demo_request = saml.read_request(query)
    request = HttpRequest()
    request.method = "POST"
    request.META["REMOTE_ADDR"] = "127.0.0.1"
    outcome = sso_login(
        request=request,
        profile=profile,
        saml_response=saml.signed_response(
            request=demo_request, person=saml.PEOPLE[0]
        ).saml_response,
        relay_state=demo_request.relay_state or "",
        token=token,
    )
    if outcome.event.reason != Reason.OK:
        raise DemoSeedError(f"the demo IdP's connection test failed: {outcome.event.reason}")
    logger.info("Demo IdP profile %s tested", profile.sid)
