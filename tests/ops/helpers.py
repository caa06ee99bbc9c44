"""Subprocess helpers for the node tests: nodes, the scenario module, waiting."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from tests.conftest import REPO


def scenario(env: dict, *args) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "tests.ops.scenario", *map(str, args)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def wait_for(condition, timeout: float = 60.0, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    return None


def node_env(database_url: str, static_root: str, **extra) -> dict:
    from bench.http.server import server_env

    return server_env(
        database_url,
        static_root,
        {
            "JOB_POLL_SECONDS": "1",
            "LOG_REQUESTS": "true",
            "DEMO_PASSWORD": "brobygger-demo",
            "WEB_WORKERS": "1",
            "WEB_THREADS": "4",
            **extra,
        },
    )
