"""Authentication backend for SSO logins verified by the ACS."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import HttpRequest
from djangosaml2.backends import Saml2Backend

from sso.login.services import sso_user_for_login
from sso.models import User

if TYPE_CHECKING:
    from sso.saml.acs import VerifiedLogin

SSO_BACKEND = "sso.backends.ProfileSaml2Backend"  # as AUTHENTICATION_BACKENDS names it


class ProfileSaml2Backend(Saml2Backend):
    """Signs in the person a verified assertion names, under the profile's organization policy.

    Answers only for `sso_login`, a VerifiedLogin the ACS produced; raises LoginRefused (not
    PermissionDenied, which Django would swallow) so the refusal keeps its reason code.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        session_info: dict | None = None,
        attribute_mapping: dict | None = None,
        create_unknown_user: bool = True,
        assertion_info: dict | None = None,
        sso_login: VerifiedLogin | None = None,
        **kwargs: Any,
    ) -> User | None:
        if sso_login is None:
            return None
        user = sso_user_for_login(
            profile=sso_login.profile,
            email=sso_login.email,
            first_name=sso_login.first_name,
            last_name=sso_login.last_name,
        )
        return user if self.user_can_authenticate(user) else None
