"""The app refuses to start on a pysaml2 or djangosaml2 nobody reviewed."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from djangosaml2.backends import Saml2Backend

from sso import checks
from sso.saml.pysaml2.pins import REVIEWED_VERSIONS


def _installing(monkeypatch, distribution: str, version: str | None) -> None:
    real = checks.installed_version
    monkeypatch.setattr(
        checks,
        "installed_version",
        lambda name: version if name == distribution else real(name),
    )


def test_reviewed_saml_libraries_check_passes_on_the_installed_versions():
    assert checks.reviewed_saml_libraries_check() == []
    call_command("check")


@pytest.mark.parametrize("distribution", ["pysaml2", "djangosaml2"])
def test_reviewed_saml_libraries_check_other_version_is_an_error(monkeypatch, distribution):
    _installing(monkeypatch, distribution, "7.6.0")
    [error] = checks.reviewed_saml_libraries_check()
    assert error.id == "sso.E001"
    assert error.msg.startswith(
        f"{distribution} 7.6.0 is installed; this release was reviewed against "
        f"{distribution} {REVIEWED_VERSIONS[distribution]}: "
    )


def test_reviewed_saml_libraries_check_missing_distribution_is_an_error(monkeypatch):
    _installing(monkeypatch, "pysaml2", None)
    [error] = checks.reviewed_saml_libraries_check()
    assert error.id == "sso.E001"
    assert error.msg.startswith("pysaml2 (none) is installed;")


def test_manage_py_check_other_pysaml2_refuses_to_start(monkeypatch):
    _installing(monkeypatch, "pysaml2", "7.6.0")
    with pytest.raises(SystemCheckError, match=r"sso\.E001.*pysaml2 7\.6\.0 is installed"):
        call_command("check")


def _is_authorized(self, *args, **kwargs):
    return True


def test_manage_py_check_changed_pinned_source_refuses_to_start(monkeypatch):
    monkeypatch.setattr(Saml2Backend, "is_authorized", _is_authorized)
    [error] = checks.reviewed_saml_libraries_check()
    assert error.id == "sso.E002"
    assert "djangosaml2.backends.Saml2Backend.is_authorized" in error.msg
    with pytest.raises(SystemCheckError, match=r"sso\.E002"):
        call_command("check")
