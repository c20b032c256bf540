"""The WSGI entry point loads the whole application before it serves, then freezes it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wsgi_application_is_loaded_whole_and_frozen_out_of_the_collectors_sight():
    probe = (
        "import gc, sys\n"
        "import adminsite.wsgi\n"
        "print(gc.get_freeze_count() > 10_000, 'sso.views.acs' in sys.modules, "
        "'saml2.response' in sys.modules)\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "adminsite.settings_test"}
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "True"]
