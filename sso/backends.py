"""The authentication backend of SSO logins: djangosaml2's Saml2Backend, with the product's rules
in its hooks."""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from djangosaml2.backends import Saml2Backend

from sso.domains.selectors import trusted_domains_for_email
from sso.login.mapping import MappedClaims, attributes_map
from sso.models import SignInMethod, SSOProfile, TrustedDomain, User
from sso.organizations.accounts import (
    subject_link_create,
    subject_link_exists_for,
    subject_link_user,
    user_email_follow_idp,
    user_link_to_sso,
)
from sso.organizations.selectors import user_get_by_email
from sso.organizations.services import (
    membership_create,
    membership_record_sign_in,
    user_create,
)
from sso.reasons import LoginRefused, Reason
from sso.validators import normalize_idp_email

logger = logging.getLogger(__name__)

SSO_BACKEND = "sso.backends.ProfileSaml2Backend"  # as AUTHENTICATION_BACKENDS names it
# The verified NameID and its format, handed to djangosaml2 as two more attributes (written
# after the IdP's attributes, so an attribute of the same name never replaces them).
NAME_ID = "saml:NameID"
NAME_ID_FORMAT = "saml:NameID-Format"


def profile_attribute_mapping(profile: SSOProfile) -> dict[str, tuple[str, ...]]:
    """Which cleaned attribute fills which account field, in djangosaml2's form.

    clean_attributes applies the profile's mapping (sso/login/mapping.py) and hands on one
    attribute per field under the field's own name.
    """
    return {"email": ("email",), "first_name": ("first_name",), "last_name": ("last_name",)}


class ProfileSaml2Backend(Saml2Backend):
    """Signs in the person a verified assertion names, under the profile's organization policy.

    djangosaml2's `authenticate` runs the login; the hooks below decide. They raise
    LoginRefused (not PermissionDenied, which Django would swallow) so that every refusal
    keeps its reason code. Answers only when given the `profile` whose IdP verified the
    assertion, so `django.contrib.auth.authenticate` never reaches it by accident.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        session_info: dict | None = None,
        attribute_mapping: dict | None = None,
        create_unknown_user: bool = True,
        assertion_info: dict | None = None,
        *,
        profile: SSOProfile | None = None,
        **kwargs: Any,
    ) -> User | None:
        """djangosaml2's, for one profile: the backend keeps the profile and the trusted
        domains `is_authorized` found for the email, for the hooks that follow."""
        if profile is None:
            return None
        self.profile = profile
        self.domains: list[TrustedDomain] = []
        self.mapped: MappedClaims | None = None
        self.email_followed = False
        return super().authenticate(
            request,
            session_info=session_info,
            attribute_mapping=attribute_mapping,
            create_unknown_user=create_unknown_user,
            assertion_info=assertion_info,
        )

    def clean_attributes(self, attributes: dict, idp_entityid: str, **kwargs: Any) -> dict:
        """The profile's mapping applied (the email normalised into the account key); the
        backend keeps it in `mapped` for the login event. Raises LoginRefused when the email
        is missing or not an address."""
        pseudo = (NAME_ID, NAME_ID_FORMAT)
        ava = {key: value for key, value in attributes.items() if key not in pseudo}
        self.mapped = attributes_map(
            profile=self.profile,
            name_id=(attributes.get(NAME_ID) or [""])[0],
            name_id_format=(attributes.get(NAME_ID_FORMAT) or [""])[0],
            attributes=ava,
        )
        return {
            "email": [self.mapped.email],
            "first_name": [self.mapped.first_name],
            "last_name": [self.mapped.last_name],
        }

    def clean_user_main_attribute(self, main_attribute: Any) -> str:
        return normalize_idp_email(main_attribute or "")

    def is_authorized(
        self,
        attributes: dict,
        attribute_mapping: dict,
        idp_entityid: str,
        assertion_info: dict,
        **kwargs: Any,
    ) -> bool:
        """The tenant policy: the email is in a trusted domain of this very profile, so no IdP
        reaches another tenant's people."""
        email = attributes["email"][0]
        self.domains = trusted_domains_for_email(profile=self.profile, email=email)
        if not self.domains:
            refusal = LoginRefused(Reason.DOMAIN_NOT_TRUSTED, email_domain=email.rpartition("@")[2])
            raise refusal
        return True

    def get_or_create_user(
        self,
        user_lookup_key: str,
        user_lookup_value: Any,
        create_unknown_user: bool,
        idp_entityid: str,
        attributes: dict,
        attribute_mapping: dict,
        request: HttpRequest | None,
    ) -> tuple[User, bool]:
        """The account found by email, or created just in time (`create_unknown_user`: the
        profile's JIT setting), and its membership of the profile's organization.

        An account that is not a member yet is linked or created only while a verified
        trusted domain covers its email. Returns (user, False): a created account is saved
        here, inside the sign-in transaction, so djangosaml2 need not save it again.
        """
        names = {
            "first_name": attributes["first_name"][0],
            "last_name": attributes["last_name"][0],
        }
        try:
            with transaction.atomic():
                return self._member(user_lookup_value, create_unknown_user, names), False
        except IntegrityError:
            # Two first logins of one person raced; the other created the account.
            with transaction.atomic():
                return self._member(user_lookup_value, create_unknown_user, names), False

    def _account(self, email: str) -> tuple[User | None, bool]:
        """The account of a linked subject first, else the account of the email; and whether
        the subject is still to be linked. A new person given an old email (another subject)
        never inherits the account of the person who had it."""
        subject = self.mapped.subject if self.mapped else None
        if subject is None:
            return user_get_by_email(email=email), False
        name_id_format, name_id = subject
        user = subject_link_user(
            profile=self.profile, name_id_format=name_id_format, name_id=name_id
        )
        if user is not None:
            if user.email.lower() != email and any(d.is_verified for d in self.domains):
                self.email_followed = user_email_follow_idp(
                    user=user, email=email, profile=self.profile
                )
            return user, False
        user = user_get_by_email(email=email)
        if user is not None and subject_link_exists_for(profile=self.profile, user=user):
            raise LoginRefused(
                Reason.SUBJECT_MISMATCH, name_id=name_id, name_id_format=name_id_format or "(none)"
            )
        return user, True

    def _member(self, email: str, create_unknown_user: bool, names: dict[str, str]) -> User:
        profile = self.profile
        user, to_link = self._account(email)
        user = self._member_of(user, email, create_unknown_user, names)
        if to_link:
            name_id_format, name_id = self.mapped.subject
            subject_link_create(
                profile=profile, name_id_format=name_id_format, name_id=name_id, user=user
            )
        return user

    def _member_of(
        self, user: User | None, email: str, create_unknown_user: bool, names: dict[str, str]
    ) -> User:
        profile = self.profile
        # Recording the sign-in also tells whether the account is a member already; a refusal
        # below raises out of the transaction around this call, which takes the record back.
        is_member = user is not None and membership_record_sign_in(
            user=user, method=SignInMethod.SSO, profile=profile
        )
        if not is_member and not any(domain.is_verified for domain in self.domains):
            # Until its owner proves the domain, it neither creates nor links accounts.
            raise LoginRefused(Reason.DOMAIN_UNVERIFIED)
        if user is None:
            if not create_unknown_user:
                raise LoginRefused(Reason.USER_NOT_PROVISIONED)
            user = user_create(email=email, email_verified=True, **names)
            membership_create(
                user=user,
                organization=profile.organization,
                role=profile.jit_role,
                created_just_in_time=True,
            )
            logger.info("Created %s just in time through profile %s", user.pk, profile.sid)
            membership_record_sign_in(user=user, method=SignInMethod.SSO, profile=profile)
            return user
        if not user.is_active:
            raise LoginRefused(Reason.USER_INACTIVE)
        if not is_member:
            if not create_unknown_user:
                raise LoginRefused(Reason.USER_NOT_PROVISIONED)
            # The IdP proved the email: an unproven password on the account must not survive.
            user_link_to_sso(user=user, profile=profile)
            membership_create(user=user, organization=profile.organization, role=profile.jit_role)
            membership_record_sign_in(user=user, method=SignInMethod.SSO, profile=profile)
        return user

    def _update_user(
        self, user: User, attributes: dict, attribute_mapping: dict, force_save: bool = False
    ) -> User:
        """djangosaml2's, except that a name the IdP did not send never blanks the account's,
        and only the changed fields are written (djangosaml2 saves the whole row)."""
        changed = [
            field
            for field in ("first_name", "last_name")
            if attributes[field][0] and getattr(user, field) != attributes[field][0]
        ]
        for field in changed:
            setattr(user, field, attributes[field][0])
        if changed:
            user.save(update_fields=changed)
        return user
