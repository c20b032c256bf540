"""Response headers every page gets, and infrastructure failures answered with 503."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

from sso.infrastructure import INFRASTRUCTURE_ERRORS, infrastructure_unavailable_log
from sso.views.errors import service_unavailable

# No page of the product uses these browser features; nothing embedded may either.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "screen-wake-lock",
        "usb",
        "xr-spatial-tracking",
    )
)


class SecurityHeadersMiddleware:
    """Permissions-Policy on every response; `no-store` on every HTML page that does not
    choose its own caching: each page may show personal data (the top bar shows the
    signed-in email), so none is kept by the browser or a shared cache, even if a view
    forgets `never_cache`."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        is_html = response.get("Content-Type", "").startswith("text/html")
        if is_html and "Cache-Control" not in response:
            add_never_cache_headers(response)
        return response


class InfrastructureErrorMiddleware:
    """A view that fails because Redis or the database does answers 503 with our page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, INFRASTRUCTURE_ERRORS):
            return None
        infrastructure_unavailable_log(error=exception, where=request.path)
        return service_unavailable()
