"""Page-level widenings of the site's Content-Security-Policy (adminsite/settings.py).

Browsers check form-action on every redirect a form submission follows, and the SP-initiated
login is such a redirect: the form posts here, we answer 302 to the IdP's SSO URL.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from csp.decorators import csp_update
from django.http import HttpResponse

# The email step, sign-up and an invitation may send the person to any organization's IdP,
# unknown until the email is typed: any https origin (IdP SSO URLs must be https), never
# plain http or another scheme. Listing every IdP would publish who our customers use.
to_any_idp = csp_update({"form-action": ["https:"]})


def to_idp(response: HttpResponse, *, sso_url: str) -> HttpResponse:
    """This page's form continues to this one IdP: its origin only."""
    parts = urlsplit(sso_url)
    return csp_update({"form-action": [f"{parts.scheme}://{parts.netloc}"]})(lambda: response)()
