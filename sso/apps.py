from __future__ import annotations

from django.apps import AppConfig


class SsoConfig(AppConfig):
    name = "sso"
    verbose_name = "Single sign-on"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from sso.saml.pysaml2 import schema, speedups

        schema.install()
        speedups.install()
