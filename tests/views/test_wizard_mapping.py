"""Step 4's attribute mapping: saved through profile_configure, audited, shown with the preset's
usual names as placeholders."""

from __future__ import annotations

import re
from http import HTTPStatus

import pytest
from django.urls import reverse

from sso.models import AuditAction, AuditEvent, ProfileStatus
from tests.factories import ActiveProfileFactory, SSOProfileFactory
from tests.views.test_wizard import settings_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(admin):
    return SSOProfileFactory(organization=admin.organization, name="Keycloak", idp_kind="keycloak")


def test_step4_saves_the_attribute_mapping_and_audits_it(admin_client, draft, certificate_pem):
    url = reverse("sso:wizard_idp_metadata", args=[draft.sid])
    data = settings_data(
        certificate_pem,
        idp_kind="keycloak",
        email_source="attribute",
        email_attribute=" email ",
        first_name_attribute="firstName",
        last_name_attribute="",
        groups_attribute="http://schemas.microsoft.com/ws/2008/06/identity/claims/groups",
    )

    response = admin_client.post(url, data)

    assert response.status_code == HTTPStatus.FOUND, response.context["form"].errors
    draft.refresh_from_db()
    assert (draft.email_attribute, draft.first_name_attribute, draft.last_name_attribute) == (
        "email",
        "firstName",
        "",
    )
    assert draft.groups_attribute.endswith("/claims/groups")
    changes = AuditEvent.objects.get(action=AuditAction.CHANGED, profile=draft).changes
    assert changes["email_attribute"] == ["", "email"]
    page = admin_client.get(url).content.decode()
    assert re.search(
        r'<input type="radio" name="email_source" value="attribute"[^>]* checked', page
    )
    assert 'name="email_attribute" value="email"' in page


def test_step4_nameid_source_clears_the_email_attribute(admin_client, draft, certificate_pem):
    draft.email_attribute = "mail"
    draft.save()
    url = reverse("sso:wizard_idp_metadata", args=[draft.sid])

    admin_client.post(
        url, settings_data(certificate_pem, email_source="nameid", email_attribute="mail")
    )

    draft.refresh_from_db()
    assert draft.email_attribute == ""


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"email_source": "attribute", "email_attribute": ""}, "email_attribute", "Enter the name"),
        (
            {"email_source": "attribute", "email_attribute": "e mail"},
            "email_attribute",
            "no spaces",
        ),
        ({"first_name_attribute": "x" * 257}, "first_name_attribute", "at most 256"),
    ],
)
def test_step4_mapping_errors_beside_the_field(
    admin_client, draft, certificate_pem, overrides, field, message
):
    url = reverse("sso:wizard_idp_metadata", args=[draft.sid])

    response = admin_client.post(url, settings_data(certificate_pem, **overrides))

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert field in response.context["form"].errors
    assert message in response.content.decode()


def test_step4_shows_the_presets_usual_names_as_placeholders(admin_client, draft):
    page = admin_client.get(reverse("sso:wizard_idp_metadata", args=[draft.sid])).content.decode()
    mapping = page[page.index('data-testid="attribute-mapping"') :]
    assert 'placeholder="email"' in mapping
    assert 'placeholder="firstName"' in mapping
    assert "Blank: the first of firstName" in mapping


def test_changing_the_email_attribute_of_a_tested_profile_asks_for_a_new_test(
    admin_client, admin, certificate_pem
):
    profile = ActiveProfileFactory(organization=admin.organization, status=ProfileStatus.TESTED)
    url = reverse("sso:wizard_idp_metadata", args=[profile.sid])
    data = settings_data(
        certificate_pem,
        idp_issuer=profile.idp_issuer,
        idp_sso_url=profile.idp_sso_url,
        certificate="",
        domains=["acme.test"],
        email_source="attribute",
        email_attribute="mail",
    )

    assert admin_client.post(url, data).status_code == HTTPStatus.FOUND

    profile.refresh_from_db()
    assert (profile.email_attribute, profile.status) == ("mail", ProfileStatus.CONFIGURED)
