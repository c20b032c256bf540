"""The demo IdP: never routed or allowed without DEBUG; answers only signed requests of the
profiles that name it; the seed that points Acme at it is idempotent."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client
from django.urls import reverse

from sso import checks
from sso.devidp import saml
from sso.models import AuditEvent, LoginEvent, Membership, ProfileStatus, SSOProfile
from sso.saml.authn import authn_request_url
from tests.devidp.conftest import seed as _seed
from tests.factories import SSOProfileFactory

pytestmark = pytest.mark.django_db

DemoIdP = Callable[..., None]


@pytest.mark.parametrize(
    ("debug", "enabled"), [(False, True), (False, False), (True, False)], ids=str
)
def test_demo_idp_routes_without_debug_and_setting_answer_404(
    client: Client, demo_idp: DemoIdP, debug: bool, enabled: bool
) -> None:
    demo_idp(debug=debug, enabled=enabled)
    assert client.get("/dev-idp/metadata/").status_code == HTTPStatus.NOT_FOUND
    for path in ("/dev-idp/", "/dev-idp/sso/", "/dev-idp/slo/"):
        assert client.get(path).status_code == HTTPStatus.NOT_FOUND
    assert client.post("/dev-idp/").status_code == HTTPStatus.NOT_FOUND


def test_demo_idp_routes_with_debug_answer(client: Client, demo_idp: DemoIdP) -> None:
    demo_idp(debug=True, enabled=True)
    metadata = client.get(reverse("devidp:metadata"))
    assert metadata.status_code == HTTPStatus.OK
    assert b"IDPSSODescriptor" in metadata.content
    assert client.get(reverse("devidp:sso")).status_code == HTTPStatus.BAD_REQUEST


def test_demo_idp_check_enabled_without_debug_is_an_error(settings) -> None:
    settings.DEBUG, settings.SSO_DEMO_IDP = False, True
    [error] = checks.demo_idp_check()
    assert error.id == "sso.E003"
    with pytest.raises(SystemCheckError, match="sso.E003"):
        call_command("check")


@pytest.mark.parametrize(("debug", "enabled"), [(True, True), (False, False), (True, False)])
def test_demo_idp_check_passes_with_debug_or_off(settings, debug: bool, enabled: bool) -> None:
    settings.DEBUG, settings.SSO_DEMO_IDP = debug, enabled
    assert checks.demo_idp_check() == []


def test_seed_demo_profile_active_tested_and_domain_verified_by_operator(
    seeded: SSOProfile,
) -> None:
    assert seeded.status == ProfileStatus.ACTIVE
    assert seeded.idp_issuer == "http://127.0.0.1:8765/dev-idp/metadata/"
    assert seeded.idp_sso_url == "http://127.0.0.1:8765/dev-idp/sso/"
    assert [d.is_verified for d in seeded.domains.all()] == [True]
    assert LoginEvent.objects.filter(profile=seeded, is_test=True, reason="ok").count() == 1
    verified = AuditEvent.objects.get(action="domain_verified")
    assert (verified.actor, verified.changes["how"]) == (None, "operator (seed_demo)")
    # The owner's own domain does not route to SSO: the printed password keeps working.
    assert not seeded.domains.filter(domain="acme.test").exists()


def test_seed_demo_again_reuses_everything(seeded: SSOProfile, settings, tmp_path: Path) -> None:
    counts = (AuditEvent.objects.count(), LoginEvent.objects.count(), Membership.objects.count())
    out = _seed(tmp_path, settings)
    assert "Try SSO: go to http://127.0.0.1:8765/login/, type grace@demo-sso.test" in out
    assert SSOProfile.objects.get().pk == seeded.pk
    assert (
        AuditEvent.objects.count(),
        LoginEvent.objects.count(),
        Membership.objects.count(),
    ) == counts


def test_seed_demo_new_port_and_new_key_reconfigure_and_test_again(
    seeded: SSOProfile, settings, tmp_path: Path
) -> None:
    settings.SSO_PUBLIC_BASE_URL = "http://127.0.0.1:9000"
    for file in saml.signing_files():
        file.unlink()
    _seed(tmp_path, settings)
    profile = SSOProfile.objects.get()
    assert profile.idp_sso_url == "http://127.0.0.1:9000/dev-idp/sso/"
    assert profile.status == ProfileStatus.ACTIVE
    [certificate] = profile.certificates.all()
    assert certificate.pem.split() == saml.certificate_pem().split()
    assert LoginEvent.objects.filter(is_test=True, reason="ok").count() == 2


def _redirect_query(profile: SSOProfile) -> dict[str, str]:
    url = authn_request_url(profile=profile, relay_state="/console/", token="t" * 32)
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def test_demo_idp_sign_in_page_lists_people_for_a_signed_request(
    client: Client, seeded: SSOProfile
) -> None:
    response = client.get(reverse("devidp:sso"), _redirect_query(seeded))
    assert response.status_code == HTTPStatus.OK
    assert b"grace@demo-sso.test" in response.content


@pytest.mark.parametrize("tamper", ["signature", "relay_state", "unsigned"])
def test_demo_idp_badly_signed_request_is_refused(
    client: Client, seeded: SSOProfile, tamper: str
) -> None:
    query = _redirect_query(seeded)
    if tamper == "signature":
        query["Signature"] = query["Signature"][:-8] + "AAAAAAA="
    elif tamper == "relay_state":
        query["RelayState"] = "/elsewhere/"
    else:
        del query["Signature"], query["SigAlg"]
    assert client.get(reverse("devidp:sso"), query).status_code == HTTPStatus.BAD_REQUEST


def test_demo_idp_request_of_a_profile_naming_another_idp_is_refused(
    client: Client, seeded: SSOProfile
) -> None:
    other = SSOProfileFactory(organization=seeded.organization, status=ProfileStatus.ACTIVE)
    other.idp_issuer, other.idp_sso_url = "https://idp.other.test", saml.sso_url()
    other.save()
    query = _redirect_query(other)
    assert client.get(reverse("devidp:sso"), query).status_code == HTTPStatus.BAD_REQUEST


def test_demo_idp_posts_signed_response_to_the_profiles_acs_only(
    client: Client, seeded: SSOProfile
) -> None:
    data = {**_redirect_query(seeded), "email": "grace@demo-sso.test"}
    response = client.post(reverse("devidp:sso"), data)
    assert response.status_code == HTTPStatus.OK
    acs = f"http://127.0.0.1:8765/sso/saml2/{seeded.sid}/acs/"
    assert f'action="{acs}"'.encode() in response.content
    directives = [d.strip() for d in response["Content-Security-Policy"].split(";")]
    assert "form-action 'self' http://127.0.0.1:8765" in directives


def test_demo_idp_email_outside_demo_domain_is_refused(client: Client, seeded: SSOProfile) -> None:
    data = {**_redirect_query(seeded), "email": "mallory@acme.test"}
    response = client.post(reverse("devidp:sso"), data)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert b"SAMLResponse" not in response.content
