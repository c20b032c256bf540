"""Signing out is confirmed on the login page."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_sign_out_confirmed_on_login_page(client):
    client.force_login(UserFactory())

    response = client.post(reverse("sso:logout"), follow=True)

    assert response.redirect_chain == [(reverse("sso:login"), HTTPStatus.FOUND)]
    assert "You are signed out." in response.content.decode()
    assert "You are signed out." not in client.get(reverse("sso:login")).content.decode()
