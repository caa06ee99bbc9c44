"""Start and stop the test identity provider (django-oidc-provider) on 127.0.0.1."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CLIENT_ID = "brobygger-test"
CLIENT_SECRET = "brobygger-test-secret"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class OidcProvider:
    def __init__(self, workdir: Path, users: dict, redirect_uris: list[str]):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.issuer = f"{self.url}/openid"
        self.users_file = workdir / "idp-users.json"
        self.set_users(users)
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))},
            "DJANGO_SETTINGS_MODULE": "tests.oidc_idp.settings",
            "IDP_DB": str(workdir / "idp.sqlite3"),
            "IDP_SITE_URL": self.url,
            "IDP_USERS_FILE": str(self.users_file),
            "PYTHONPATH": str(REPO),
        }
        subprocess.run(
            [sys.executable, "-m", "tests.oidc_idp.setup", CLIENT_ID, CLIENT_SECRET, *redirect_uris],
            env=self.env,
            cwd=REPO,
            check=True,
            capture_output=True,
        )
        self.log = open(workdir / "idp.log", "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "django", "runserver", f"127.0.0.1:{self.port}", "--noreload"],
            env=self.env,
            cwd=REPO,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.discovery = self._wait_for_discovery()

    def set_users(self, users: dict) -> None:
        self.users_file.write_text(json.dumps(users))

    def _wait_for_discovery(self) -> dict:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the test identity provider stopped: see {self.log.name}")
            try:
                with urllib.request.urlopen(f"{self.issuer}/.well-known/openid-configuration", timeout=2) as answer:
                    return json.load(answer)
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the test identity provider did not start within 30 s")

    def configure(self, settings, *, client_id: str = CLIENT_ID) -> None:
        """Point Brobygger's settings at this provider, as an operator would (docs/security.md)."""
        settings.OIDC_RP_CLIENT_ID = client_id
        settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
        settings.OIDC_OP_ISSUER = self.discovery["issuer"]
        settings.OIDC_OP_AUTHORIZATION_ENDPOINT = self.discovery["authorization_endpoint"]
        settings.OIDC_OP_TOKEN_ENDPOINT = self.discovery["token_endpoint"]
        settings.OIDC_OP_USER_ENDPOINT = self.discovery["userinfo_endpoint"]
        settings.OIDC_OP_JWKS_ENDPOINT = self.discovery["jwks_uri"]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()
