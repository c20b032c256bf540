"""Who is signed in at the demo IdP, in this browser: a signed cookie of its own, sent only to
/dev-idp/, never the product's session. It holds the person, the SessionIndex the demo IdP
issued and the profile they signed in to; a second cookie holds the ID of the LogoutRequest
the demo IdP sent, until the SP's LogoutResponse answers it."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass

from django.http import HttpRequest, HttpResponse
from django.urls import reverse

SESSION_COOKIE = "demo_idp_session"
LOGOUT_COOKIE = "demo_idp_logout"
SESSION_MAX_AGE = dt.timedelta(hours=8)
LOGOUT_MAX_AGE = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class DemoSession:
    email: str
    session_index: str
    profile_sid: str


@dataclass(frozen=True)
class PendingLogout:
    request_id: str
    profile_sid: str


def _read(request: HttpRequest, name: str, max_age: dt.timedelta) -> dict | None:
    value = request.get_signed_cookie(name, default=None, salt=name, max_age=max_age)
    if value is None:
        return None
    try:
        data = json.loads(value)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _write(response: HttpResponse, name: str, data: dict, max_age: dt.timedelta) -> None:
    response.set_signed_cookie(
        name,
        json.dumps(data),
        salt=name,
        max_age=int(max_age.total_seconds()),
        path=reverse("devidp:home"),
        httponly=True,
        samesite="Lax",
    )


def _delete(response: HttpResponse, name: str) -> None:
    response.delete_cookie(name, path=reverse("devidp:home"), samesite="Lax")


def demo_session_get(request: HttpRequest) -> DemoSession | None:
    data = _read(request, SESSION_COOKIE, SESSION_MAX_AGE)
    try:
        return DemoSession(**data) if data else None
    except TypeError:
        return None


def demo_session_named(
    session: DemoSession, *, profile_sid: str, name_id: str, session_indexes: tuple[str, ...]
) -> bool:
    """Whether an SP's LogoutRequest names this session: its profile, its person and, when the
    request names sessions, its SessionIndex."""
    return (
        session.profile_sid == profile_sid
        and session.email == name_id.strip().lower()
        and (not session_indexes or session.session_index in session_indexes)
    )


def demo_session_start(response: HttpResponse, session: DemoSession) -> None:
    _write(response, SESSION_COOKIE, asdict(session), SESSION_MAX_AGE)


def demo_session_end(response: HttpResponse) -> None:
    _delete(response, SESSION_COOKIE)


def pending_logout_get(request: HttpRequest) -> PendingLogout | None:
    data = _read(request, LOGOUT_COOKIE, LOGOUT_MAX_AGE)
    try:
        return PendingLogout(**data) if data else None
    except TypeError:
        return None


def pending_logout_start(response: HttpResponse, pending: PendingLogout) -> None:
    _write(response, LOGOUT_COOKIE, asdict(pending), LOGOUT_MAX_AGE)


def pending_logout_end(response: HttpResponse) -> None:
    _delete(response, LOGOUT_COOKIE)
