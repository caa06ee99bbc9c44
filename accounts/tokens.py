"""API tokens (django-rest-knox): stored as SHA-512 digests, one per client, each
expiring after ``REST_KNOX["TOKEN_TTL"]``; revoked by the owner, an admin, or a change
of the owner's password (``accounts.signals``)."""

from __future__ import annotations

from knox.models import AuthToken


def issue(user) -> tuple[str, object]:
    """A new token for ``user``: (the token text, shown once; its expiry)."""
    instance, token = AuthToken.objects.create(user=user)
    return token, instance.expiry


def revoke(token_instance) -> None:
    token_instance.delete()


def revoke_all(user) -> int:
    deleted, _per_model = AuthToken.objects.filter(user=user).delete()
    return deleted
