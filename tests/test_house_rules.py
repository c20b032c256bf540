"""House rules a reviewer cannot see at a glance, read from the source of sso/."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SSO = Path(__file__).resolve().parent.parent / "sso"
SERVICE_MODULES = sorted(
    [
        *SSO.glob("*/services.py"),
        *SSO.glob("*/selectors.py"),
        SSO / "events.py",
        SSO / "login" / "logout.py",
        SSO / "profiles" / "metadata_refresh.py",
    ]
)
# What the Admin Center calls things: every service or selector name starts with one.
ENTITIES = (
    "audit",
    "certificate",
    "connection_test",
    "domain",
    "email_verification",
    "invitation",
    "issuer",
    "job",
    "login_event",
    "membership",
    "organization",
    "owners",
    "password",
    "people",
    "profile",
    "sso_connection_test",
    "sso_login",
    "sso_logout",
    "sso_user",
    "support_reference",
    "trusted_domain",
    "used_assertion",
    "user",
)


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def _label(path: Path) -> str:
    return str(path.relative_to(SSO.parent))


@pytest.mark.parametrize("path", SERVICE_MODULES, ids=_label)
def test_services_refuse_only_through_errors_module(path):
    """One vocabulary: a service raises `sso.errors.refusal(code)`, never its own sentence."""
    built = [
        node.lineno
        for node in ast.walk(_tree(path))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "ValidationError"
    ]
    assert built == [], f"{_label(path)} builds ValidationError itself at lines {built}"


@pytest.mark.parametrize("path", SERVICE_MODULES, ids=_label)
def test_services_named_entity_action_keyword_only_and_typed(path):
    wrong = []
    for node in _tree(path).body:
        if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
            continue
        arguments = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
        if not node.name.startswith(ENTITIES):
            wrong.append(f"{node.name}: not <entity>_<action>")
        if node.args.posonlyargs or node.args.args:
            wrong.append(f"{node.name}: positional arguments")
        if node.returns is None or any(a.annotation is None for a in arguments):
            wrong.append(f"{node.name}: missing type hints")
    assert wrong == []


def test_refusal_codes_are_all_in_the_vocabulary_and_all_used():
    from sso.errors import MESSAGES

    raised = {
        node.args[0].value
        for path in SSO.rglob("*.py")
        for node in ast.walk(_tree(path))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "refusal"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }
    read = {
        node.slice.value
        for path in SSO.rglob("*.py")
        for node in ast.walk(_tree(path))
        if isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Name)
        and node.value.id == "MESSAGES"
        and isinstance(node.slice, ast.Constant)
    }
    assert raised <= set(MESSAGES)
    assert set(MESSAGES) - raised - read == set()


@pytest.mark.parametrize("path", sorted(SSO.rglob("*.py")), ids=_label)
def test_module_logger_is_used(path):
    tree = _tree(path)
    defines = any(
        isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "logger" for t in node.targets)
        for node in tree.body
    )
    uses = any(
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "logger"
        for node in ast.walk(tree)
    )
    assert uses or not defines, f"{_label(path)} defines a logger nothing uses"


@pytest.mark.parametrize("path", sorted(SSO.rglob("*.py")), ids=_label)
def test_no_call_spreads_form_cleaned_data(path):
    """A service's keywords are named at the call, so renaming a form field cannot change
    (or break) what the service receives."""
    spread = [
        node.lineno
        for node in ast.walk(_tree(path))
        if isinstance(node, ast.Call)
        for keyword in node.keywords
        if keyword.arg is None
        and isinstance(keyword.value, ast.Attribute)
        and keyword.value.attr == "cleaned_data"
    ]
    assert spread == [], f"{_label(path)} spreads **cleaned_data at lines {spread}"
