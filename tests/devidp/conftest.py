from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from sso.models import SSOProfile


def seed(tmp_path: Path, settings) -> str:
    """Run `manage.py seed_demo`, its owner password under tmp_path; what it printed."""
    settings.BASE_DIR = tmp_path
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.fixture
def seeded(demo_idp: Callable[..., None], settings, tmp_path: Path) -> SSOProfile:
    demo_idp()
    settings.SSO_PUBLIC_BASE_URL = "http://127.0.0.1:8765"
    seed(tmp_path, settings)
    return SSOProfile.objects.get(name="Demo IdP")
