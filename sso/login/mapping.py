"""Which verified claim is which account field, per profile: the attribute mapping.

The email (the account key) comes from the NameID or from a named attribute:
- `profile.email_attribute` names an attribute: that attribute only, refused when missing
  (`email_attribute_missing`), whatever the NameID is;
- blank: the NameID when its format is emailAddress; otherwise the first of the preset's usual
  email claims that arrived; with none, `nameid_format`.
When the email comes from an attribute, a persistent or unspecified NameID is the person's stable
subject (sso/models.py SubjectLink); a transient or emailAddress NameID never is.
Names and groups come from the profile's own attribute, else the preset's usual claims; they
are optional, so a missing one leaves the account's as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

from sso.models import SSOProfile
from sso.profiles.presets import preset_for
from sso.reasons import LoginRefused, Reason
from sso.validators import normalize_idp_email

NAMEID_EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
NAMEID_TRANSIENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
# The formats whose value names one person for good at one IdP ("" means unspecified).
STABLE_NAMEID_FORMATS = frozenset(
    {
        "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
        "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
        "",
    }
)
FROM_NAMEID = "NameID"
MAX_GROUPS = 100
MAX_GROUP_LENGTH = 256
MAX_RECEIVED_NAMES = 50
MAX_SUBJECT_LENGTH = 512  # SubjectLink.name_id
_RECEIVED_LENGTH = 320


@dataclass(frozen=True)
class MappedClaims:
    """The account fields a verified assertion fills, and the claim each came from."""

    email: str
    email_from: str
    first_name: str = ""
    first_name_from: str = ""
    last_name: str = ""
    last_name_from: str = ""
    groups: list[str] = field(default_factory=list)
    groups_from: str = ""
    # (NameID format, NameID) when it is the stable subject to link, else None.
    subject: tuple[str, str] | None = None

    def detail(self) -> dict[str, Any]:
        """For the login event: what was mapped from where (the groups bounded)."""
        return {
            "mapped": {
                "email": [self.email, self.email_from],
                "first_name": [self.first_name, self.first_name_from],
                "last_name": [self.last_name, self.last_name_from],
                "groups": [", ".join(self.groups), self.groups_from],
            },
            "groups": self.groups,
            "subject_linked": self.subject is not None,
        }


def received_names(attributes: dict[str, list[Any]]) -> list[str]:
    return sorted(attributes)[:MAX_RECEIVED_NAMES]


def _first(
    attributes: dict[str, list[Any]], names: tuple[str, ...], limit: int = 150
) -> tuple[str, str]:
    for name in names:
        values = attributes.get(name)
        if values and str(values[0]).strip():
            return str(values[0]).strip()[:limit], name
    return "", ""


def _names(own: str, usual: tuple[str, ...]) -> tuple[str, ...]:
    return (own,) if own else usual


def _email(
    profile: SSOProfile, name_id: str, name_id_format: str, attributes: dict[str, list[Any]]
) -> tuple[str, str]:
    if profile.email_attribute:
        value, source = _first(attributes, (profile.email_attribute,), limit=_RECEIVED_LENGTH)
        if not value:
            raise LoginRefused(
                Reason.EMAIL_ATTRIBUTE_MISSING,
                attribute=profile.email_attribute,
                received_attributes=received_names(attributes),
            )
        return value, source
    if name_id_format == NAMEID_EMAIL:
        return name_id[:_RECEIVED_LENGTH], FROM_NAMEID
    value, source = _first(
        attributes, preset_for(profile.idp_kind).email_claims, limit=_RECEIVED_LENGTH
    )
    if not value:
        raise LoginRefused(
            Reason.NAMEID_FORMAT,
            received=name_id_format or "(none)",
            received_attributes=received_names(attributes),
        )
    return value, source


def attributes_map(
    *,
    profile: SSOProfile,
    name_id: str,
    name_id_format: str,
    attributes: dict[str, list[Any]],
) -> MappedClaims:
    """The profile's mapping applied to verified claims; the email normalised into the
    account key (sso/validators.py normalize_idp_email). Raises LoginRefused
    (`email_attribute_missing`, `nameid_format`, `email_invalid`, with what arrived)."""
    raw_email, email_from = _email(profile, name_id, name_id_format, attributes)
    try:
        email = normalize_idp_email(raw_email)
    except ValidationError:
        raise LoginRefused(
            Reason.EMAIL_INVALID, received=raw_email, email_from=email_from
        ) from None
    preset = preset_for(profile.idp_kind)
    first_name, first_name_from = _first(
        attributes, _names(profile.first_name_attribute, preset.first_name_claims)
    )
    last_name, last_name_from = _first(
        attributes, _names(profile.last_name_attribute, preset.last_name_claims)
    )
    groups, groups_from = [], ""
    for name in _names(profile.groups_attribute, preset.groups_claims):
        if attributes.get(name):
            values = [str(value).strip()[:MAX_GROUP_LENGTH] for value in attributes[name]]
            groups, groups_from = [value for value in values if value][:MAX_GROUPS], name
            break
    stable = email_from != FROM_NAMEID and name_id_format in STABLE_NAMEID_FORMATS
    if stable and len(name_id) > MAX_SUBJECT_LENGTH:
        # Cutting it could make two people one subject.
        raise LoginRefused(Reason.MALFORMED_RESPONSE, problem="the NameID is too long to link")
    return MappedClaims(
        email=email,
        email_from=email_from,
        first_name=first_name,
        first_name_from=first_name_from,
        last_name=last_name,
        last_name_from=last_name_from,
        groups=groups,
        groups_from=groups_from,
        subject=(name_id_format, name_id) if stable else None,
    )
