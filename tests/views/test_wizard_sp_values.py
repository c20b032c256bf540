"""Steps 1-3: every SP value with its copy button, and all of them as one sheet for the IT admin."""

from __future__ import annotations

import html
import re
from http import HTTPStatus

import pytest
from django.urls import reverse

from sso.crypto import certificate_body
from sso.profiles.presets import preset_for
from sso.saml.config import sp_acs_url, sp_entity_id, sp_slo_url
from tests.factories import MembershipFactory, SSOProfileFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def profile(admin):
    return SSOProfileFactory(
        organization=admin.organization, name="Okta </textarea><b>x</b>", idp_kind="okta"
    )


def _sheet_on_step_1(page: str) -> str:
    match = re.search(r'<textarea id="sp-values-sheet"[^>]*>(.*?)</textarea>', page, re.DOTALL)
    assert match
    return html.unescape(match.group(1))


def test_sp_values_sheet_holds_every_value_named_as_the_idp_names_them(admin_client, profile):
    page = admin_client.get(reverse("sso:wizard_sp_metadata", args=[profile.sid])).content.decode()

    sheet = _sheet_on_step_1(page)
    okta = preset_for("okta")
    assert f"{okta.audience_field}:\n{sp_entity_id(profile)}" in sheet
    assert f"{okta.acs_field}:\n{sp_acs_url(profile)}" in sheet
    assert f"SP metadata URL (it is also the Entity ID):\n{sp_entity_id(profile)}" in sheet
    assert f"signed):\n{sp_slo_url(profile)}\n{okta.slo_note}" in sheet
    assert "tick Enable Single Logout" in page  # beside the URL on step 1 too
    assert okta.signing_field in sheet and okta.name_id_field in sheet
    assert certificate_body(profile.sp_certificate_pem)[:64] in sheet
    assert "<b>x</b>" not in page  # the typed profile name stays text inside the textarea
    assert 'data-copy="sp-values-sheet"' in page
    assert reverse("sso:wizard_sp_values", args=[profile.sid]) in page


def test_sp_values_download_is_the_same_sheet_as_text(admin_client, profile):
    step_1 = admin_client.get(reverse("sso:wizard_sp_metadata", args=[profile.sid]))

    response = admin_client.get(reverse("sso:wizard_sp_values", args=[profile.sid]))

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="okta-textareabxb-sp-values.txt"'
    )
    assert response.content.decode() == _sheet_on_step_1(step_1.content.decode())
    assert "&lt;" not in response.content.decode()


def test_sp_values_download_of_another_organization_not_found(client, profile):
    stranger = MembershipFactory(role="admin")
    client.force_login(stranger.user)
    response = client.get(reverse("sso:wizard_sp_values", args=[profile.sid]))
    assert response.status_code == HTTPStatus.NOT_FOUND


def test_step_1_every_value_has_a_copy_button(admin_client, profile):
    page = admin_client.get(reverse("sso:wizard_sp_metadata", args=[profile.sid])).content.decode()
    for field in ("entity-id", "acs-url", "metadata-url", "sp-certificate", "sp-values-sheet"):
        assert f'data-copy="{field}"' in page
    assert "SP metadata URL" in page


def test_steps_2_3_every_value_has_a_copy_button(admin_client, profile):
    url = reverse("sso:wizard_configure_idp", args=[profile.sid])
    page = admin_client.get(url).content.decode()
    entity_id, acs_url = sp_entity_id(profile), sp_acs_url(profile)
    assert page.count(f'data-copy-text="{entity_id}"') == 2  # Entity ID, SP metadata URL
    assert page.count(f'data-copy-text="{acs_url}"') == 2  # ACS URL, Recipient URL
    assert "SP metadata URL" in page
    assert reverse("sso:wizard_sp_values", args=[profile.sid]) in page
