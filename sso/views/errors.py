"""The product's own error pages (adminsite/urls.py names them as Django's handlers)."""

from __future__ import annotations

import sys
from http import HTTPStatus

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.cache import add_never_cache_headers

from sso.infrastructure import INFRASTRUCTURE_ERRORS, infrastructure_unavailable_log

RETRY_AFTER_SECONDS = 30


def _page(request: HttpRequest | None, status: HTTPStatus) -> HttpResponse:
    content = render_to_string(f"{status.value}.html", request=request)
    response = HttpResponse(content, status=status)
    add_never_cache_headers(response)
    return response


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, HTTPStatus.BAD_REQUEST)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, HTTPStatus.FORBIDDEN)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _page(request, HTTPStatus.FORBIDDEN)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, HTTPStatus.NOT_FOUND)


def service_unavailable() -> HttpResponse:
    """The 503 page, rendered without the request: its context (the user, the session) needs
    the very database or cache that failed."""
    response = _page(None, HTTPStatus.SERVICE_UNAVAILABLE)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """Django calls this inside its `except`: an infrastructure failure outside a view (a
    middleware saving the session, say) still answers 503. Rendered without the request for
    the same reason as the 503 page."""
    error = sys.exc_info()[1]
    if isinstance(error, INFRASTRUCTURE_ERRORS):
        infrastructure_unavailable_log(error=error, where=request.path)
        return service_unavailable()
    return _page(None, HTTPStatus.INTERNAL_SERVER_ERROR)
