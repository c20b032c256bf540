"""The periodic jobs, on Huey (docs/deploy.md): `manage.py run_huey` finds them here, and so
does the in-process consumer of `make run` (sso/jobs/engine.py). Each runs under its lease
(sso/jobs/services.py), so a second scheduler or a manual run never doubles one."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from sso.domains.services import domains_recheck
from sso.jobs.services import job_prune, job_run
from sso.profiles.expiry import certificate_expiry_notify
from sso.profiles.metadata_refresh import profiles_metadata_refresh
from sso.profiles.sp_keys import sp_keys_rollover_due


@db_periodic_task(crontab(minute="7"))
def domains_recheck_job() -> None:
    job_run(name="domains_recheck", work=domains_recheck)


@db_periodic_task(crontab(minute="23"))
def certificate_expiry_job() -> None:
    job_run(name="certificate_expiry", work=lambda: certificate_expiry_notify(now=timezone.now()))


@db_periodic_task(crontab(hour="3", minute="17"))
def prune_job() -> None:
    job_run(name="prune", work=lambda: job_prune(now=timezone.now()))


@db_periodic_task(crontab(minute=f"*/{settings.SSO_METADATA_REFRESH_CHECK_MINUTES}"))
def metadata_refresh_job() -> None:
    """Every SSO_METADATA_REFRESH_CHECK_MINUTES (ten), the profiles whose IdP metadata refresh
    is due (each profile's own schedule: 24 h by default, never more often than hourly)."""
    job_run(name="metadata_refresh", work=lambda: profiles_metadata_refresh(now=timezone.now()))


@db_periodic_task(crontab(minute="41"))
def sp_key_rollover_job() -> None:
    """Hourly: finish every SP key rollover whose overlap has ended."""
    job_run(name="sp_key_rollover", work=lambda: sp_keys_rollover_due(now=timezone.now()))
