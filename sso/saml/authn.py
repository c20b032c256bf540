"""SP-initiated login: a signed AuthnRequest for the profile's IdP (HTTP-Redirect, RSA-SHA256)."""

from __future__ import annotations

import secrets
from urllib.parse import quote, urlencode

from djangosaml2.utils import get_location
from saml2 import BINDING_HTTP_REDIRECT
from saml2.config import SPConfig
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from sso.models import SSOProfile
from sso.reasons import LoginRefused, Reason
from sso.saml.config import ProfileSigningKey, saml_client_for
from sso.saml.pending import TEST_RELAY_PREFIX, pending_request_save


def authn_request_url(
    *,
    profile: SSOProfile,
    relay_state: str,
    token: str,
    tester_id: int | None = None,
    config: SPConfig | None = None,
    extra_query: dict[str, str] | None = None,
    force_authn: bool = False,
) -> str:
    """The IdP URL carrying a signed AuthnRequest; its id is remembered for this browser.

    With `tester_id`, a connection test by that admin: allowed before the profile is active.
    `config`: the profile's SPConfig, when the caller has it from djangosaml2's loader.
    `extra_query`: parameters for the IdP beside the request (a login hint). The HTTP-Redirect
    signature covers only SAMLRequest, RelayState and SigAlg, so they leave it intact; the
    AuthnRequest itself never names a Subject (Entra refuses one). `force_authn`: ask the IdP
    to authenticate the person afresh rather than from its session (ForceAuthn="true").
    """
    if not profile.is_active and tester_id is None:
        raise LoginRefused(Reason.PROFILE_INACTIVE)
    client = saml_client_for(profile, config=config)
    client.sec.sec_backend = ProfileSigningKey(profile)
    request_id = f"id-{secrets.token_hex(16)}"
    if tester_id is not None:
        relay_state = TEST_RELAY_PREFIX + request_id
    _, binding_info = client.prepare_for_authenticate(
        entityid=profile.idp_issuer,
        relay_state=relay_state,
        message_id=request_id,
        binding=BINDING_HTTP_REDIRECT,
        sign=True,
        sigalg=SIG_RSA_SHA256,
        digest_alg=DIGEST_SHA256,
        nameid_format=NAMEID_FORMAT_EMAILADDRESS,
        **({"force_authn": "true"} if force_authn else {}),
    )
    pending_request_save(
        request_id=request_id,
        sid=profile.sid,
        relay_state=relay_state,
        token=token,
        tester_id=tester_id,
    )
    location = get_location(binding_info)
    if extra_query:
        # pysaml2 has put SAMLRequest in the query already: these only follow it.
        location += "&" + urlencode(extra_query, quote_via=quote)
    return location
