"""Step 4's certificates: the bare base64 an IdP shows, private keys never echoed, their order."""

from __future__ import annotations

import re
from http import HTTPStatus

import pytest
from django.urls import reverse

from sso.crypto import certificate_body
from tests.factories import IdPCertificateFactory, SSOProfileFactory
from tests.fixtures.idp import KeyPair
from tests.views.test_wizard import settings_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(admin):
    return SSOProfileFactory(organization=admin.organization, name="Okta")


def _textarea(page: str, name: str) -> str:
    match = re.search(rf'<textarea name="{name}"[^>]*>(.*?)</textarea>', page, re.DOTALL)
    assert match, f"no {name} field"
    return match.group(1)


@pytest.mark.parametrize(
    "layout",
    [
        lambda body: body,
        lambda body: "\n".join(body[i : i + 64] for i in range(0, len(body), 64)),
        lambda body: "  " + " ".join(body[i : i + 76] for i in range(0, len(body), 76)) + "\n",
    ],
    ids=["one-line", "64-column-lines", "spaces"],
)
def test_idp_metadata_bare_base64_certificate_saved_as_pem(
    admin_client, draft, certificate_pem, layout
):
    bare = layout(certificate_body(certificate_pem))
    url = reverse("sso:wizard_idp_metadata", args=[draft.sid])

    response = admin_client.post(url, settings_data(bare))

    assert response.status_code == HTTPStatus.FOUND
    saved = draft.certificates.get()
    assert saved.pem.startswith("-----BEGIN CERTIFICATE-----\n")
    assert certificate_body(saved.pem) == certificate_body(certificate_pem)


@pytest.mark.parametrize("field", ["certificate", "additional_certificate"])
@pytest.mark.parametrize("bare", [False, True], ids=["pem", "bare-base64"])
def test_idp_metadata_private_key_refused_and_never_echoed(
    admin_client, draft, certificate_pem, idp_keys, field, bare
):
    key = idp_keys.key_pem.decode()
    body = "".join(key.strip().splitlines()[1:-1])
    pasted = body if bare else key
    data = settings_data(certificate_pem, **{field: pasted})
    url = reverse("sso:wizard_idp_metadata", args=[draft.sid])

    response = admin_client.post(url, data)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    page = response.content.decode()
    assert "This is a private key" in page
    assert _textarea(page, field).strip() == ""
    assert body[:40] not in page and body[-40:] not in page
    assert not draft.certificates.exists()


def test_idp_metadata_certificates_newer_and_older_by_order_added(admin_client, draft):
    first = IdPCertificateFactory(
        profile=draft, pem=KeyPair.generate("Added first", days=900).certificate_pem
    )
    second = IdPCertificateFactory(
        profile=draft, pem=KeyPair.generate("Added second", days=30).certificate_pem
    )
    assert first.not_after > second.not_after  # the one added later expires sooner

    response = admin_client.get(reverse("sso:wizard_idp_metadata", args=[draft.sid]))

    page = response.content.decode()
    newer, older = page.index("CN=Added second"), page.index("CN=Added first")
    assert newer < older
    assert page.index(">Newer<") < newer < page.index(">Older<") < older
