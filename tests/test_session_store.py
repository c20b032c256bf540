"""The session store: one INSERT at sign-in, a new key whenever a stored session signs in."""

from __future__ import annotations

import pytest
from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from sso.session_store import SessionStore

pytestmark = pytest.mark.django_db


def test_fresh_session_is_written_once_under_a_new_key():
    session = SessionStore()
    session.cycle_key()  # what login() does
    session["_auth_user_id"] = "1"
    assert session.session_key is None

    with CaptureQueriesContext(connection) as captured:
        session.save()  # what the response does

    statements = [query["sql"].split()[0] for query in captured.captured_queries]
    assert statements.count("INSERT") == 1
    assert not {"SELECT", "UPDATE"} & set(statements)
    stored = SessionStore(session.session_key)
    assert stored["_auth_user_id"] == "1"


def test_saving_unchanged_data_again_writes_nothing():
    session = SessionStore()
    session["_auth_user_id"] = "1"
    session.save()

    with CaptureQueriesContext(connection) as unchanged:
        session.save()  # what the response does after the view saved it
    session["cart"] = ["book"]
    with CaptureQueriesContext(connection) as changed:
        session.save()
    session["cart"].append("pen")  # changed in place, as Django allows with modified = True
    session.modified = True
    session.save()

    assert unchanged.captured_queries == []
    assert [q["sql"].split()[0] for q in changed.captured_queries].count("UPDATE") == 1
    assert SessionStore(session.session_key)["cart"] == ["book", "pen"]


def test_stored_session_gets_a_new_key_at_sign_in():
    """Session fixation: a key the browser held before signing in is never the signed-in one."""
    anonymous = SessionStore()
    anonymous["next"] = "/console/"
    anonymous.save()
    planted = anonymous.session_key

    session = SessionStore(planted)
    session.cycle_key()
    session["_auth_user_id"] = "1"
    session.save()

    assert session.session_key != planted
    assert not Session.objects.filter(session_key=planted).exists()
    assert SessionStore(session.session_key)["next"] == "/console/"


def test_key_collision_is_retried(monkeypatch):
    taken = SessionStore()
    taken["x"] = 1
    taken.save()
    keys = iter([taken.session_key, "k" * 32])
    monkeypatch.setattr(SessionStore, "_get_new_session_key", lambda self: next(keys))

    session = SessionStore()
    session["_auth_user_id"] = "1"
    session.save()

    assert session.session_key == "k" * 32
    assert SessionStore(taken.session_key)["x"] == 1


def test_new_keys_are_32_valid_characters_and_never_repeat():
    keys = {SessionStore()._get_new_session_key() for _ in range(1000)}

    assert len(keys) == 1000
    assert all(len(key) == 32 and set(key) <= set(VALID_KEY_CHARS) for key in keys)
    assert SessionStore()._validate_session_key(keys.pop())


def test_login_through_the_middleware_leaves_one_row(rf: RequestFactory, django_user_model):
    from django.contrib.auth import login
    from django.contrib.sessions.middleware import SessionMiddleware
    from django.http import HttpResponse

    user = django_user_model.objects.create_user(email="ann@example.test", password="x" * 12)
    request = rf.get("/")
    middleware = SessionMiddleware(lambda request: HttpResponse())
    middleware.process_request(request)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    response = middleware.process_response(request, HttpResponse())

    key = response.cookies["sessionid"].value
    assert list(Session.objects.values_list("session_key", flat=True)) == [key]
