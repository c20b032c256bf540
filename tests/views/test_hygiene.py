"""Headers every page carries (CSP, Permissions-Policy, no-store), the product's own error
pages, and form errors that used to be dropped."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import get_resolver, reverse

from sso.models import Role
from sso.validators import MAX_UPLOAD_BYTES
from tests.factories import ActiveProfileFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client) -> Client:
    membership = MembershipFactory(role=Role.OWNER)
    client.force_login(membership.user)
    client.membership = membership
    return client


def csp_of(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in policy.split(";") if part.strip())
    }


@pytest.mark.parametrize("url_name", ["sso:login", "sso:signup", "sso:password_reset"])
def test_login_pages_strict_csp_and_permissions_policy(client, url_name):
    response = client.get(reverse(url_name))

    assert response.status_code == HTTPStatus.OK
    policy = csp_of(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]


def test_email_step_form_may_continue_to_any_https_idp_only(client):
    # Its form's answer is a redirect on to the IdP, which browsers check against form-action.
    assert csp_of(client.get(reverse("sso:login")))["form-action"] == ["'self'", "https:"]


def test_email_step_with_debug_also_loopback_http_idps(client, settings):
    settings.DEBUG = True  # when validate_https_url accepts http://127.0.0.1 IdPs
    form_action = csp_of(client.get(reverse("sso:login")))["form-action"]
    assert sorted(form_action) == ["'self'", "http://127.0.0.1:*", "http://localhost:*", "https:"]


def test_wizard_test_step_form_may_continue_to_its_own_idp_only(admin_client):
    profile = ActiveProfileFactory(
        organization=admin_client.membership.organization,
        idp_sso_url="https://acme.okta.test/app/sso/saml",
    )
    response = admin_client.get(reverse("sso:wizard_test", args=[profile.sid]))

    assert response.status_code == HTTPStatus.OK
    assert csp_of(response)["form-action"] == ["'self'", "https://acme.okta.test"]


def test_admin_center_pages_form_action_self_only(admin_client):
    for url_name in ["sso:admin_sso", "sso:admin_people", "sso:admin_organization"]:
        response = admin_client.get(reverse(url_name))
        assert response.status_code == HTTPStatus.OK
        assert csp_of(response)["form-action"] == ["'self'"], url_name


def test_console_no_store(admin_client):
    # Its view sets no caching of its own: the rule for every HTML page covers it.
    response = admin_client.get(reverse("sso:console"))

    assert response.status_code == HTTPStatus.OK
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_unknown_page_404_our_page(client, settings):
    settings.DEBUG = False
    response = client.get("/no-such-page/")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert [t.name for t in response.templates][:1] == ["404.html"]
    assert b'data-testid="error-404"' in response.content
    assert "no-store" in response["Cache-Control"]
    assert "Content-Security-Policy" in response


def test_disallowed_host_400_our_page(client):
    response = client.get(reverse("sso:login"), HTTP_HOST="evil.test")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert b'data-testid="error-400"' in response.content


def test_csrf_failure_403_our_page(db):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("sso:login"), {"email": "ann@example.test"})

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert b'data-testid="error-403"' in response.content
    assert b"CSRF" not in response.content


def test_django_admin_permission_denied_403_our_page(client):
    staff = UserFactory(is_staff=True)  # staff without any permission
    client.force_login(staff)
    response = client.get("/django-admin/sso/loginevent/")

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert b'data-testid="error-403"' in response.content


def test_server_error_500_our_page(rf):
    response = get_resolver().resolve_error_handler(500)(rf.get("/console/"))

    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert b'data-testid="error-500"' in response.content


def test_metadata_import_over_256_kb_says_so(admin_client):
    profile = ActiveProfileFactory(organization=admin_client.membership.organization)
    upload = SimpleUploadedFile("idp.xml", b"<x/>" * (MAX_UPLOAD_BYTES // 4 + 1), "text/xml")
    response = admin_client.post(
        reverse("sso:wizard_idp_metadata", args=[profile.sid]),
        {"import": "1", "metadata_file": upload},
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "This file is too large." in response.content.decode()


def test_enforcement_invalid_break_glass_choice_says_so(admin_client):
    organization = admin_client.membership.organization
    ActiveProfileFactory(organization=organization)
    admin = MembershipFactory(organization=organization, role=Role.ADMIN)  # not an owner
    response = admin_client.post(
        reverse("sso:admin_sso_enforcement"),
        {"enforce_sso": "on", "break_glass": [admin.user.pk]},
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Choose break-glass owners among this organization&#x27;s owners." in (
        response.content.decode()
    )
    organization.refresh_from_db()
    assert organization.enforce_sso is False
