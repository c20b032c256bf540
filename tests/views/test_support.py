"""Support can follow a reference: login events searched and filtered, the audit log."""

from __future__ import annotations

import datetime as dt
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from sso.events import support_reference_normalize
from tests.factories import ActiveProfileFactory, LoginEventFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def profile(admin):
    return ActiveProfileFactory(organization=admin.organization, name="Okta")


def _rows(response) -> str:
    content = response.content.decode()
    return content[content.index("<tbody>") : content.index("</tbody>")]


def test_login_events_page_shows_the_reference_column(admin_client, profile):
    event = LoginEventFactory(profile=profile)
    url = reverse("sso:profile_login_events", args=[profile.sid])
    rows = _rows(admin_client.get(url))
    assert f'<code class="reference">{event.reference}</code>' in rows


@pytest.mark.parametrize("spelling", ["exact", "lower", "no_dashes"])
def test_login_events_search_by_reference_as_read_out(admin_client, profile, spelling):
    wanted = LoginEventFactory(profile=profile, outcome="failure", reason="issuer_mismatch")
    other = LoginEventFactory(profile=profile)
    typed = {
        "exact": wanted.reference,
        "lower": wanted.reference.lower(),
        "no_dashes": wanted.reference.replace("-", ""),
    }[spelling]

    url = reverse("sso:profile_login_events", args=[profile.sid])
    rows = _rows(admin_client.get(url, {"q": typed}))

    assert wanted.reference in rows and other.reference not in rows


def test_login_events_search_by_email_any_case(admin_client, profile):
    wanted = LoginEventFactory(profile=profile, email="grace@acme.test")
    other = LoginEventFactory(profile=profile, email="ada@acme.test")
    url = reverse("sso:profile_login_events", args=[profile.sid])
    rows = _rows(admin_client.get(url, {"q": "Grace@ACME.test"}))
    assert wanted.reference in rows and other.reference not in rows


def test_login_events_filters_outcome_reason_email_and_days(admin_client, profile):
    now = timezone.now()
    wanted = LoginEventFactory(
        profile=profile, outcome="failure", reason="issuer_mismatch", email="g@acme.test"
    )
    wrong_reason = LoginEventFactory(
        profile=profile, outcome="failure", reason="expired", email="g@acme.test"
    )
    success = LoginEventFactory(profile=profile, email="g@acme.test")
    too_old = LoginEventFactory(
        profile=profile,
        outcome="failure",
        reason="issuer_mismatch",
        email="g@acme.test",
        created_at=now - dt.timedelta(days=10),
    )
    url = reverse("sso:profile_login_events", args=[profile.sid])
    today = now.astimezone(dt.UTC).date()
    rows = _rows(
        admin_client.get(
            url,
            {
                "outcome": "failure",
                "reason": "issuer_mismatch",
                "email": "G@acme.test",
                "since": (today - dt.timedelta(days=1)).isoformat(),
                "until": today.isoformat(),
            },
        )
    )
    assert wanted.reference in rows
    for excluded in (wrong_reason, success, too_old):
        assert excluded.reference not in rows


def test_login_events_are_paginated_keeping_the_filters(admin_client, profile):
    LoginEventFactory.create_batch(51, profile=profile, outcome="failure", reason="expired")
    url = reverse("sso:profile_login_events", args=[profile.sid])
    content = admin_client.get(url, {"outcome": "failure"}).content.decode()
    assert "Page 1 of 2" in content
    assert "?outcome=failure&amp;page=2" in content


def test_login_events_search_never_shows_another_tenants_event(admin_client, profile):
    foreign = LoginEventFactory(profile=ActiveProfileFactory())
    url = reverse("sso:profile_login_events", args=[profile.sid])
    assert foreign.reference not in _rows(admin_client.get(url, {"q": foreign.reference}))
    lookup = admin_client.get(
        reverse("sso:admin_support_reference"), {"reference": foreign.reference}
    )
    assert lookup["Location"] == reverse("sso:admin_sso")


def test_support_reference_lookup_opens_the_event(admin_client, profile):
    event = LoginEventFactory(profile=profile)
    response = admin_client.get(
        reverse("sso:admin_support_reference"), {"reference": event.reference.lower()}
    )
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == reverse("sso:profile_login_event", args=[profile.sid, event.pk])


@pytest.mark.parametrize("text", ["", "grace@acme.test", "ABCD-EFGH", "ABCD-EFGH-IJKL-MNO1"])
def test_support_reference_normalize_rejects_what_is_no_reference(text):
    assert support_reference_normalize(text=text) == ""


def test_login_failed_page_has_a_copy_button_for_the_reference():
    from pathlib import Path

    template = Path(__file__).resolve().parents[2] / "templates/sso/errors/login_failed.html"
    text = template.read_text()
    assert 'data-copy-text="{{ event.reference }}"' in text and "<script src=" in text
    assert "<script>" not in text  # the CSP allows no inline script


def _audit(profile, **values):
    from tests.factories import AuditEventFactory

    return AuditEventFactory(profile=profile, organization=profile.organization, **values)


def test_audit_log_shows_readable_values_not_reprs(admin_client, profile):
    _audit(
        profile,
        action="sso_enforcement_changed",
        changes={
            "enforce_sso": [False, True],
            "break_glass": [[], ["ada@acme.test", "grace@acme.test"]],
            "certificates_added": ["AA:BB", "CC:DD"],
        },
    )
    content = admin_client.get(reverse("sso:admin_audit_log")).content.decode()
    assert "<dt>enforce sso</dt><dd>no → yes</dd>" in content
    assert "<dd>— → ada@acme.test, grace@acme.test</dd>" in content
    assert "<dd>AA:BB, CC:DD</dd>" in content  # a list of items, not a before and after
    assert "[False, True]" not in content and "&#x27;" not in content


def test_audit_log_shows_staff_changes_as_support_staff(admin_client, profile):
    staff = _audit(profile, action="staff_change", changes={"operation": "changed"})
    content = admin_client.get(reverse("sso:admin_audit_log")).content.decode()
    assert '<span class="badge warning">Support staff</span>' in content
    assert staff.actor.email in content


def test_audit_log_filters_by_action_actor_and_day(admin_client, profile):
    wanted = _audit(profile, action="disabled", changes={"status": ["active", "disabled"]})
    _audit(profile, action="changed", actor=wanted.actor, changes={"name": ["A", "B"]})
    _audit(profile, action="disabled", changes={"status": ["tested", "disabled"]})
    _audit(
        profile,
        action="disabled",
        actor=wanted.actor,
        changes={"status": ["old", "disabled"]},
        created_at=timezone.now() - dt.timedelta(days=30),
    )
    today = timezone.now().astimezone(dt.UTC).date().isoformat()
    response = admin_client.get(
        reverse("sso:admin_audit_log"),
        {"action": "disabled", "actor": wanted.actor.email.upper(), "since": today},
    )
    content = response.content.decode()
    assert "active → disabled" in content
    assert "A → B" not in content and "tested → disabled" not in content
    assert "old → disabled" not in content


def test_audit_log_csv_export_is_tenant_scoped_filtered_and_formula_safe(admin_client, profile):
    _audit(profile, action="changed", changes={"name": ["=HYPERLINK(1)", "Okta"]})
    _audit(profile, action="disabled", changes={"status": ["active", "disabled"]})
    foreign = ActiveProfileFactory(name="Foreign IdP")
    _audit(foreign, action="changed", changes={"name": ["Theirs", "Foreign IdP"]})

    response = admin_client.get(reverse("sso:admin_audit_log_export"), {"action": "changed"})

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "text/csv"
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode()
    lines = body.strip().splitlines()
    assert lines[0] == "time_utc,who,action,profile,profile_id,changes"
    assert len(lines) == 2
    assert "name: =HYPERLINK(1) → Okta" in lines[1] and ",'name" not in lines[1]
    assert "Foreign IdP" not in body and "active → disabled" not in body


def test_audit_log_csv_cell_starting_with_a_formula_is_quoted(admin_client, profile):
    profile.name = "=cmd|' /C calc'!A0"
    profile.save()
    _audit(profile, action="created", changes={"name": [None, profile.name]})
    response = admin_client.get(reverse("sso:admin_audit_log_export"))
    body = b"".join(response.streaming_content).decode()
    assert ",\"'=cmd|' /C calc'!A0\"," in body or ",'=cmd|' /C calc'!A0," in body
