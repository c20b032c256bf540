"""A connection test keeps the decoded SAML response for the admin's IdP ticket; logins never."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from sso.events import TEST_RESPONSE_XML
from sso.models import LoginEvent, ProfileStatus
from sso.saml.acs import TEST_RESPONSE_MAX_BYTES
from tests.factories import ActiveProfileFactory, LoginEventFactory, MembershipFactory
from tests.fixtures.idp import ResponseSpec, encode
from tests.saml.test_acs import start_login
from tests.views.test_connection_test import post, result_page, start_test

pytestmark = pytest.mark.django_db


@pytest.fixture
def profile(admin):
    return ActiveProfileFactory(
        organization=admin.organization, status=ProfileStatus.CONFIGURED, idp_kind="okta"
    )


def _download_url(event: LoginEvent) -> str:
    return reverse("sso:profile_login_event_response", args=[event.profile.sid, event.pk])


@pytest.mark.parametrize("signed", [True, False], ids=["success", "refused-unsigned"])
def test_connection_test_keeps_decoded_response_escaped_with_download(
    admin_client, profile, idp, signed
):
    spec, relay_state = start_test(admin_client, profile)
    xml = idp.signxml_response(spec) if signed else idp.response_xml(spec, idp.assertion_xml(spec))

    content = result_page(admin_client, post(admin_client, profile, xml, relay_state))

    event = LoginEvent.objects.get(is_test=True)
    assert event.detail[TEST_RESPONSE_XML] == xml
    assert 'data-testid="response-xml"' in content
    assert content.count("&lt;samlp:Response") == 1 and "<samlp:Response" not in content
    download = admin_client.get(_download_url(event))
    assert download.status_code == HTTPStatus.OK
    assert download.content.decode() == xml
    assert download["Content-Type"] == "application/octet-stream"
    assert download["Content-Disposition"] == (
        f'attachment; filename="saml-response-{event.reference}.xml"'
    )


def test_connection_test_response_over_cap_not_kept(admin_client, profile, idp):
    spec, relay_state = start_test(admin_client, profile)
    xml = idp.signxml_response(spec)
    padded = xml + "<!--" + "x" * TEST_RESPONSE_MAX_BYTES + "-->"

    content = result_page(admin_client, post(admin_client, profile, padded, relay_state))

    event = LoginEvent.objects.get(is_test=True)
    assert TEST_RESPONSE_XML not in event.detail
    assert 'data-testid="response-xml"' not in content
    assert admin_client.get(_download_url(event)).status_code == HTTPStatus.NOT_FOUND


def test_real_login_never_keeps_response(admin, profile, idp, client):
    profile.status = ProfileStatus.ACTIVE
    profile.save()
    request_id = start_login(client, profile)
    spec = ResponseSpec.for_profile(profile, in_response_to=request_id)
    response = client.post(
        reverse("sso:saml2_acs", args=[profile.sid]),
        {"SAMLResponse": encode(idp.signxml_response(spec))},
    )
    assert response.status_code == HTTPStatus.FOUND
    event = LoginEvent.objects.get(is_test=False)
    assert event.outcome == "success"
    assert TEST_RESPONSE_XML not in event.detail

    admin_client = Client()
    admin_client.force_login(admin.user)
    page = admin_client.get(reverse("sso:profile_login_event", args=[profile.sid, event.pk]))
    assert 'data-testid="response-xml"' not in page.content.decode()
    assert admin_client.get(_download_url(event)).status_code == HTTPStatus.NOT_FOUND


def test_response_of_real_login_event_with_detail_key_never_shown(admin_client, profile):
    event = LoginEventFactory(profile=profile, is_test=False, detail={TEST_RESPONSE_XML: "<x/>"})
    page = admin_client.get(reverse("sso:profile_login_event", args=[profile.sid, event.pk]))
    assert "&lt;x/&gt;" not in page.content.decode()
    assert admin_client.get(_download_url(event)).status_code == HTTPStatus.NOT_FOUND


def test_response_download_of_another_organization_not_found(client, profile):
    event = LoginEventFactory(profile=profile, is_test=True, detail={TEST_RESPONSE_XML: "<x/>"})
    stranger = MembershipFactory(role="admin")
    client.force_login(stranger.user)
    assert client.get(_download_url(event)).status_code == HTTPStatus.NOT_FOUND


def test_connection_test_result_shows_wizard_stepper_at_test_step(admin_client, profile, idp):
    spec, relay_state = start_test(admin_client, profile)
    content = result_page(
        admin_client, post(admin_client, profile, idp.signxml_response(spec), relay_state)
    )
    assert 'aria-label="SSO setup steps"' in content
    test_url = reverse("sso:wizard_test", args=[profile.sid])
    assert f'<a href="{test_url}" aria-current="step">' in content


@pytest.mark.parametrize(
    ("status", "step"),
    [
        (ProfileStatus.DRAFT, "sso:wizard_sp_metadata"),
        (ProfileStatus.ACTIVE, "sso:wizard_idp_metadata"),
    ],
)
def test_sso_page_edit_and_profile_name_lead_to_same_step(admin_client, profile, status, step):
    profile.status = status
    profile.save()
    page = admin_client.get(reverse("sso:admin_sso")).content.decode()
    url = reverse(step, args=[profile.sid])
    assert f'<a href="{url}" data-testid="profile-name">' in page
    assert f'<a href="{url}" data-testid="profile-edit">Edit</a>' in page
