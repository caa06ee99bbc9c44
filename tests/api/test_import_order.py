"""Each module DRF's settings name loads first, in a fresh interpreter.

DRF imports the classes its settings name (parser, authentication, pagination, exception
handler) while ``rest_framework.views`` loads. A module named there that imports
``rest_framework.views``, or a module that does and is imported back by one named there,
fails with a circular import only when it happens to be the first of them to load: in a
test module that imports it before anything else did (CI failed on that once), or in a
management command. The test process has them all loaded already, so each is tried in a
subprocess of its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

REPO = Path(__file__).resolve().parents[2]


def first_party_modules_named_by_drf() -> list[str]:
    paths = []
    for value in settings.REST_FRAMEWORK.values():
        for path in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(path, str) and path.split(".")[0] in {"api", "accounts", "web", "workflows"}:
                paths.append(path.rsplit(".", 1)[0])
    return sorted(set(paths))


MODULES = [*first_party_modules_named_by_drf(), "api.serializers", "api.views"]


def test_drf_names_the_modules_this_test_tries():
    assert {"api.exceptions", "api.parsers", "api.pagination", "accounts.tokens"} <= set(MODULES)


@pytest.mark.parametrize("module", MODULES)
def test_module_loads_first(module):
    code = f"import django; django.setup(); import {module}"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings")}
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
