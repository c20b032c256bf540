"""Input that cannot name anything is refused at the edge: 404 or 400, never a 500."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sso.models import AuditEvent, LoginEvent, ProfileStatus, Role, TrustedDomain
from tests.factories import MembershipFactory, SSOProfileFactory, TrustedDomainFactory
from tests.views.test_wizard import settings_data

pytestmark = pytest.mark.django_db

# Each 260 characters with labels of at most 63: too long as a whole, not label by label.
LONG_DOMAIN = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 63, "test"])
BAD_SIDS = {
    "nul": "JI" + "0" * 31 + "\x00",
    "nul-only": "\x00",
    "upper-case": "JI" + "A" * 32,
    "too-long": "JI" + "0" * 33,
}
PROFILE_URLS = [
    ("sso:saml2_metadata", "get"),
    ("sso:saml2_login", "get"),
    ("sso:saml2_acs", "post"),
    ("sso:wizard_sp_metadata", "get"),
    ("sso:wizard_idp_metadata", "post"),
    ("sso:wizard_test", "get"),
    ("sso:profile_activate", "post"),
    ("sso:profile_delete", "post"),
]


@pytest.fixture
def membership():
    return MembershipFactory(role=Role.ADMIN)


@pytest.fixture
def admin_client(client, membership):
    client.force_login(membership.user)
    client.raise_request_exception = False
    return client


@pytest.fixture
def draft(membership):
    return SSOProfileFactory(organization=membership.organization)


@pytest.mark.parametrize(("name", "method"), PROFILE_URLS)
@pytest.mark.parametrize("sid", BAD_SIDS.values(), ids=BAD_SIDS.keys())
def test_profile_url_that_cannot_name_a_profile_is_404_without_a_query(
    admin_client, draft, name, method, sid
):
    url = reverse(name, args=[draft.sid]).replace(draft.sid, sid)

    with CaptureQueriesContext(connection) as queries:
        response = getattr(admin_client, method)(url, {"SAMLResponse": "PHg+"})

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert not [query for query in queries if "sso_ssoprofile" in query["sql"]]
    assert not LoginEvent.objects.exists() and not AuditEvent.objects.exists()
    draft.refresh_from_db()
    assert draft.status == ProfileStatus.DRAFT


@pytest.mark.parametrize("text", ["acme\x00.test", "\x00", LONG_DOMAIN], ids=["nul", "only", "260"])
def test_domain_check_post_that_cannot_name_a_domain_is_400(admin_client, draft, text):
    domain = TrustedDomainFactory(profile=draft, domain="acme.test", verified_at=None)

    response = admin_client.post(reverse("sso:admin_domains"), {"domain": text})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    domain.refresh_from_db()
    assert (domain.checked_at, domain.check_detail) == (None, "")
    assert not AuditEvent.objects.exists()


def test_wizard_domain_longer_than_253_refused_beside_field_and_nothing_saved(
    admin_client, draft, certificate_pem
):
    url = reverse("sso:wizard_idp_metadata", args=[draft.sid])

    response = admin_client.post(url, settings_data(certificate_pem, domains=[LONG_DOMAIN]))

    assert response.status_code == HTTPStatus.BAD_REQUEST
    errors = response.context["form"].errors.as_data()
    assert [error.code for error in errors["domains"]] == ["domain_too_long"]
    assert "at most 253 characters" in response.content.decode()
    draft.refresh_from_db()
    assert (draft.status, draft.idp_issuer) == (ProfileStatus.DRAFT, "")
    assert not TrustedDomain.objects.exists() and not draft.certificates.exists()
