"""Page-level widenings of the site's Content-Security-Policy (adminsite/settings.py).

Browsers check form-action on every redirect a form submission follows, and the SP-initiated
login is such a redirect: the form posts here, we answer 302 to the IdP's SSO URL.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from csp.decorators import csp_update
from django.conf import settings
from django.http import HttpResponse

# While DEBUG is on, validate_https_url lets an IdP on a loopback host use plain http
# (CSP has no way to name an IPv6 literal such as [::1]).
_LOOPBACK_HTTP = ["http://127.0.0.1:*", "http://localhost:*"]


def _form_action(response: HttpResponse, sources: list[str]) -> HttpResponse:
    return csp_update({"form-action": sources})(lambda: response)()


def to_any_idp(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """For the email step, sign-up and the like, whose form may send the person on to any
    organization's IdP, unknown until the email is typed: any https origin (IdP SSO URLs are
    https), never another scheme. Listing every IdP would publish who our customers use."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> HttpResponse:
        sources = ["https:", *(_LOOPBACK_HTTP if settings.DEBUG else [])]
        return _form_action(view(*args, **kwargs), sources)

    return wrapped


def to_idp(response: HttpResponse, *, sso_url: str) -> HttpResponse:
    """This page's form continues to this one IdP: its origin only."""
    parts = urlsplit(sso_url)
    return _form_action(response, [f"{parts.scheme}://{parts.netloc}"])
