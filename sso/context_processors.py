"""Template context for every page."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest


def public_origin(request: HttpRequest) -> dict[str, object]:
    """In DEBUG, the configured public origin when this request came to another one: every
    Entity ID and ACS URL the pages show is built from SSO_PUBLIC_BASE_URL, not from the
    address in the browser, so an admin would paste values that point elsewhere."""
    if not settings.DEBUG:
        return {}
    configured = urlsplit(settings.SSO_PUBLIC_BASE_URL)
    configured_origin = f"{configured.scheme}://{configured.netloc}"
    origin = f"{request.scheme}://{request.get_host()}"
    if origin == configured_origin:
        return {}
    return {"public_origin_mismatch": {"configured": configured_origin, "request": origin}}
