"""WSGI entry point: the application, loaded whole before the worker serves anything."""

from __future__ import annotations

import gc
import os

from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adminsite.settings")


def load_application() -> WSGIHandler:
    """The application with its URLconf imported (the views, the SAML stack), then everything
    loaded so far frozen out of the garbage collector's sight.

    It all lives as long as the process. A response with hundreds of attributes makes tens of
    thousands of objects, enough for a full collection every few logins; frozen, Django and
    pysaml2 are no longer walked by each (a quarter of the time of a 500-attribute login).
    """
    application = get_wsgi_application()
    get_resolver().url_patterns  # noqa: B018 - imports the URLconf now, not on the first request
    gc.collect()
    gc.freeze()
    return application


application = load_application()
