"""Test-only overrides: speed and isolation."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")
# A developer's .env (`make run`) never reaches the tests.
os.environ.setdefault("DJANGO_READ_DOT_ENV_FILE", "false")
# The jobs queue of this test process, never a developer's var/jobs.sqlite3.
os.environ.setdefault(
    "SSO_JOBS_SQLITE_PATH",
    os.path.join(tempfile.gettempdir(), f"admin-center-test-jobs-{os.getpid()}.sqlite3"),
)

from adminsite.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
SSO_PUBLIC_BASE_URL = "https://sso.test"
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Only collectstatic fills STATIC_ROOT (`make serve`, tests/test_multiprocess.py, under the
# project's settings); tests serve static files from the apps, as runserver does.
STATIC_ROOT = None
