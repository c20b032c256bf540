from __future__ import annotations

from django.apps import AppConfig


class SsoConfig(AppConfig):
    name = "sso"
    verbose_name = "Single sign-on"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.core import checks as django_checks

        from sso import checks
        from sso.saml import pysaml2

        pysaml2.install()
        django_checks.register(checks.reviewed_saml_libraries_check)
        django_checks.register(checks.demo_idp_check)
