"""The pseudonymous key that replaces a person in the access log once their data is erased.

A keyed hash (HMAC-SHA256) of the national id with ``PSEUDONYM_SECRET``: the same person
always gets the same key, so when they later ask who saw their data the coordinator
computes the key from the national id they give and finds the rows; without the secret
the key says nothing and cannot be reversed by trying all national ids (there are only
about 10^9 of them, so a plain hash could). The secret must never change while keys made
with it are kept (docs/data-protection.md).
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings


def person_key(national_id: str) -> str:
    secret = settings.BROBYGGER["PSEUDONYM_SECRET"].encode()
    return hmac.new(secret, national_id.strip().encode(), hashlib.sha256).hexdigest()
