"""Settings for the Admin Center, read from the environment (see .env.example)."""

from __future__ import annotations

from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# Another file than the checkout's .env: tests/jobs/test_make_run.py writes its own.
DOT_ENV_FILE = Path(env.str("DJANGO_DOT_ENV_FILE", default="") or BASE_DIR / ".env")


def _is_development_dot_env(path: Path) -> bool:
    """The .env `make run` writes (DJANGO_DEBUG=true) is read without being asked, so that the
    README's manage.py commands work as shown; any other .env only with DJANGO_READ_DOT_ENV_FILE."""
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return False
    return "DJANGO_DEBUG=true" in (line.strip() for line in lines)


if env.bool("DJANGO_READ_DOT_ENV_FILE", default=_is_development_dot_env(DOT_ENV_FILE)):
    environ.Env.read_env(DOT_ENV_FILE)

# GENERAL
# ------------------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
ROOT_URLCONF = "adminsite.urls"
WSGI_APPLICATION = "adminsite.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.forms",
    "djangosaml2",
    "csp",
    "sso",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "sso.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "sso.middleware.InfrastructureErrorMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "sso.context_processors.public_origin",
            ],
        },
    },
]

# Widgets render with the project's templates (templates/sso/widgets/).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

# DATABASES
# ------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Each worker keeps its connection between requests (a new PostgreSQL connection per login
# costs more than the login), checked before reuse; 0 closes it after every request.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=300)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several workers write to the one file: readers do not wait for the writer (WAL), a write
    # transaction takes the lock as it begins (a deferred one that has read first fails at once
    # with "database is locked" when another worker wrote meanwhile), and waits up to 20 s.
    _sqlite_options = DATABASES["default"].setdefault("OPTIONS", {})
    _sqlite_options.setdefault("transaction_mode", "IMMEDIATE")
    _sqlite_options.setdefault("init_command", "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL")
    _sqlite_options.setdefault("timeout", 20)

# CACHES
# ------------------------------------------------------------------------------
# Outstanding AuthnRequests, the assertion replay cache, connection tests and throttling
# counters live here: with several workers it must be shared (Redis via CACHE_URL).
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://admin-center")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "sso.cache.RedisCache"  # one redis-py client per pool
if CACHES["default"]["BACKEND"].endswith("LocMemCache"):
    # The replay cache must not forget an assertion while it is valid: no early eviction.
    CACHES["default"].setdefault("OPTIONS", {})["MAX_ENTRIES"] = 1_000_000

# SESSIONS: in the database by default; "django.contrib.sessions.backends.cache" keeps them
# in the shared cache instead.
SESSION_ENGINE = env.str("DJANGO_SESSION_ENGINE", default="sso.session_store")

# AUTH
# ------------------------------------------------------------------------------
AUTH_USER_MODEL = "sso.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "sso.backends.ProfileSaml2Backend",
]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/console/"
# Failed password sign-ins allowed within the window: per client address and email (the
# guesser's own lock), per email from anywhere, and per client address whatever the email.
SSO_LOGIN_FAILURES_PER_CLIENT_EMAIL = env.int("SSO_LOGIN_FAILURES_PER_CLIENT_EMAIL", default=5)
SSO_LOGIN_FAILURES_PER_EMAIL = env.int("SSO_LOGIN_FAILURES_PER_EMAIL", default=20)
SSO_LOGIN_FAILURES_PER_CLIENT = env.int("SSO_LOGIN_FAILURES_PER_CLIENT", default=30)
# How many reverse proxies in front of the app append to X-Forwarded-For (docs/deploy.md):
# the client is the address that many hops from the right. 0: REMOTE_ADDR, no proxy trusted.
SSO_TRUSTED_PROXY_HOPS = env.int("SSO_TRUSTED_PROXY_HOPS", default=0)
# Refused SSO attempts recorded per client and profile a minute; further ones are counted on
# the last event instead, so a flood of bad posts cannot grow the login events table.
SSO_REFUSAL_EVENTS_PER_MINUTE = env.int("SSO_REFUSAL_EVENTS_PER_MINUTE", default=30)
SSO_LOGIN_THROTTLE_SECONDS = env.int("SSO_LOGIN_THROTTLE_SECONDS", default=900)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# EMAIL (password reset): printed to the console unless EMAIL_URL names an SMTP server.
# ------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str(
    "DJANGO_DEFAULT_FROM_EMAIL", default="Admin Center <noreply@localhost>"
)

# SECURITY
# ------------------------------------------------------------------------------
# The main session cookie stays Lax: the IdP's cross-site POST to the ACS relies on
# the SSO request cookie (see SSO_REQUEST_COOKIE_*), never on the session cookie.
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = 0 if DEBUG else env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "sso.views.errors.csrf_failure"
# Content-Security-Policy (django-csp): no inline script, style or event handler anywhere, so
# templates keep behaviour in static/sso/*.js and looks in static/sso/app.css. Forms post to
# this site only; the few whose submission is redirected on to an IdP widen form-action on
# their own page (sso/views/headers.py), since browsers check it on every redirect.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

# STATIC
# ------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "var" / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# LOGGING
# ------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    # pysaml2 logs whole documents at debug and some key material at info: keep it quiet.
    "loggers": {
        "saml2": {"level": "WARNING"},
        "djangosaml2": {"level": "WARNING"},
        "xmlschema": {"level": "WARNING"},
    },
}

# JOBS: Huey (docs/deploy.md). Without SSO_JOBS_REDIS_URL the queue is a SQLite file and
# `make run` (manage.py runserver_with_jobs) runs the consumer in its own process; with it,
# every machine shares one Redis queue, `manage.py run_huey --no-periodic` runs the workers and
# exactly one `manage.py run_huey` also runs the scheduler.
# ------------------------------------------------------------------------------
SSO_JOBS_REDIS_URL = env.str("SSO_JOBS_REDIS_URL", default="")
SSO_JOBS_SQLITE_PATH = env.path("SSO_JOBS_SQLITE_PATH", default=BASE_DIR / "var" / "jobs.sqlite3")
if not SSO_JOBS_REDIS_URL:
    Path(SSO_JOBS_SQLITE_PATH).parent.mkdir(parents=True, exist_ok=True)
HUEY = {
    "name": "admin-center",
    "huey_class": "huey.RedisHuey" if SSO_JOBS_REDIS_URL else "huey.SqliteHuey",
    "connection": {"url": SSO_JOBS_REDIS_URL}
    if SSO_JOBS_REDIS_URL
    else {"filename": str(SSO_JOBS_SQLITE_PATH)},
    # Never run tasks inline in the request (huey's default under DEBUG): jobs are jobs.
    "immediate": False,
    "results": False,
    "utc": True,
    "consumer": {"workers": env.int("SSO_JOBS_WORKERS", default=2), "worker_type": "thread"},
}
# How long a worker holds a periodic job's lease without renewing it (it renews every third of
# it while the job runs): a worker that dies mid-job lets another take the job over after this.
SSO_JOBS_LEASE_SECONDS = env.int("SSO_JOBS_LEASE_SECONDS", default=600)
# Certificate expiry notices: days before expiry at which owners and admins are emailed once.
SSO_EXPIRY_NOTICE_DAYS = (60, 30, 7, 1)

# MAINTENANCE: the daily prune job (sso/tasks.py), or `manage.py prune` by hand
# ------------------------------------------------------------------------------
# Login events, and invitations nobody accepted, are deleted this many days after they were
# written (expired); the audit log is kept.
SSO_LOGIN_EVENT_RETENTION_DAYS = env.int("SSO_LOGIN_EVENT_RETENTION_DAYS", default=400)

# SAML
# ------------------------------------------------------------------------------
SSO_PUBLIC_BASE_URL = env.str("SSO_PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
SSO_KEY_ENCRYPTION_SECRET = env.str("SSO_KEY_ENCRYPTION_SECRET", default=SECRET_KEY)
SSO_KEY_ENCRYPTION_OLD_SECRETS = env.list("SSO_KEY_ENCRYPTION_OLD_SECRETS", default=[])
SSO_CLOCK_SKEW_SECONDS = min(env.int("SSO_CLOCK_SKEW_SECONDS", default=60), 60)
SSO_ALLOW_SHA1_SIGNATURES = env.bool("SSO_ALLOW_SHA1_SIGNATURES", default=False)
# How long an AuthnRequest may stay unanswered, and the cookie binding it to the browser.
SSO_REQUEST_TTL_SECONDS = env.int("SSO_REQUEST_TTL_SECONDS", default=600)
SSO_REQUEST_COOKIE_NAME = "sso_request"
# "inprocess": verify signatures in process (xmlsec binding); "xmlsec1": pysaml2's default,
# one xmlsec1 process per check.
SSO_SIGNATURE_BACKEND = env.str("SSO_SIGNATURE_BACKEND", default="inprocess")
SSO_XMLSEC_BINARY = env.str("SSO_XMLSEC_BINARY", default="") or None
# Domain verification: DNS TXT or HTTPS proof; a vanished proof keeps working for a grace period.
SSO_DNS_NAMESERVER = env.str("SSO_DNS_NAMESERVER", default="")  # "host[:port]"; system if empty
SSO_DNS_TIMEOUT_SECONDS = env.float("SSO_DNS_TIMEOUT_SECONDS", default=2.0)
SSO_DOMAIN_GRACE_DAYS = env.int("SSO_DOMAIN_GRACE_DAYS", default=30)
SSO_DOMAIN_CLAIM_DAYS = env.int("SSO_DOMAIN_CLAIM_DAYS", default=7)
SSO_DOMAIN_HTTPS_TIMEOUT_SECONDS = env.float("SSO_DOMAIN_HTTPS_TIMEOUT_SECONDS", default=3.0)
SSO_DOMAIN_HTTPS_PORT = env.int("SSO_DOMAIN_HTTPS_PORT", default=443)
SSO_DOMAIN_HTTPS_CA_FILE = env.str("SSO_DOMAIN_HTTPS_CA_FILE", default="")
# Also for every outbound fetch (sso/outbound.py): the IdP metadata URL, its CA file and this.
SSO_DOMAIN_HTTPS_ALLOW_PRIVATE = env.bool("SSO_DOMAIN_HTTPS_ALLOW_PRIVATE", default=False)
# IdP metadata by URL (sso/profiles/metadata_refresh.py): refreshed this often at most (sooner
# when the document's cacheDuration or validUntil asks, never within the hour), with jitter.
SSO_METADATA_REFRESH_HOURS = env.int("SSO_METADATA_REFRESH_HOURS", default=24)
SSO_METADATA_TIMEOUT_SECONDS = env.float("SSO_METADATA_TIMEOUT_SECONDS", default=10.0)
# How often the job engine looks for profiles whose refresh is due (sso/tasks.py), in minutes:
# a divisor of 60. Each profile still keeps its own schedule above.
SSO_METADATA_REFRESH_CHECK_MINUTES = env.int("SSO_METADATA_REFRESH_CHECK_MINUTES", default=10)
if not 1 <= SSO_METADATA_REFRESH_CHECK_MINUTES <= 60 or 60 % SSO_METADATA_REFRESH_CHECK_MINUTES:
    raise ImproperlyConfigured("SSO_METADATA_REFRESH_CHECK_MINUTES must be a divisor of 60")
# The built-in demo IdP of `make run` (/dev-idp/, sso/devidp/): development only. It is routed
# only while DEBUG is on, and the check sso.E003 refuses to start with it on and DEBUG off.
SSO_DEMO_IDP = env.bool("SSO_DEMO_IDP", default=DEBUG)
SSO_DEMO_IDP_DIR = env.path("SSO_DEMO_IDP_DIR", default=BASE_DIR / "var" / "demo-idp")
SAML_CONFIG_LOADER = "sso.saml.config.sp_config_for_request"
# djangosaml2 would widen the CSP of its views (form-action https:, a script nonce) for its
# auto-submitting POST binding, which this product does not use: keep our policy as it is.
SAML_CSP_HANDLER = ""
# Single logout: LogoutRequests go to the IdP by HTTP-Redirect (djangosaml2's client), the only
# binding our SingleLogoutService accepts (sso/saml/logout.py).
SAML_LOGOUT_REQUEST_PREFERRED_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
