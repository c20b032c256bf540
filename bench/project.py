"""The project under test: Django on a throwaway SQLite file, loaded as a gunicorn worker
loads it, and the SSO profile every login signs in to."""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sso.models import SSOProfile


def setup_django(workdir: Path) -> str:
    """Django on a fresh SQLite file in `workdir`; returns the DATABASE_URL gunicorn shares."""
    # The project's SQLite settings (WAL, IMMEDIATE transactions): two workers share the file.
    database_url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adminsite.settings_test")
    os.environ["DATABASE_URL"] = database_url

    import django
    from django.core.management import call_command

    django.setup()
    # INFO lines per login (JIT creation, ...) and library deprecation noise are not results.
    logging.disable(logging.INFO)
    warnings.simplefilter("ignore")
    call_command("migrate", verbosity=0)
    # Rows 1-4 run in this process: loaded as a gunicorn worker is (URLconf, then gc.freeze()).
    import adminsite.wsgi  # noqa: F401

    return database_url


def create_profile() -> SSOProfile:
    from tests.factories import ActiveProfileFactory

    return ActiveProfileFactory()  # SP-initiated only: every response answers a request


def load_profile(sid: str) -> SSOProfile:
    """The profile as the ACS view loads it, with its certificates and domains."""
    from sso.profiles.selectors import profile_for_sign_in

    return profile_for_sign_in(sid=sid)


def signature_backend() -> str:
    from django.conf import settings

    return str(settings.SSO_SIGNATURE_BACKEND)
