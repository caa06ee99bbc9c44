"""API tokens (django-rest-knox): stored as SHA-512 digests, one per client, each
expiring after ``REST_KNOX["TOKEN_TTL"]``; revoked by the owner, an admin, or a change
of the owner's password (``accounts.signals``).

``TokenAuthentication`` is knox's with two changes measured under load (README
"Production server"): the token and its user are read by one statement compiled once
(through the ORM every API request spent about 1.2 ms of Python building it, an eighth of
a request's CPU), and a request no longer reads every token of its user to delete the
expired ones (a second query per request): an expired token is refused and deleted when it
is presented, and the user's other expired tokens are deleted when the user signs in.
"""

from __future__ import annotations

import binascii
from functools import cache
from hmac import compare_digest

from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox import auth as knox_auth
from knox.crypto import hash_token
from knox.models import AuthToken
from knox.settings import CONSTANTS, knox_settings
from knox.signals import token_expired
from rest_framework import exceptions


def issue(user) -> tuple[str, object]:
    """A new token for ``user``: (the token text, shown once; its expiry). The user's
    expired tokens are deleted first (requests only check the token they carry)."""
    AuthToken.objects.filter(user=user, expiry__lt=timezone.now()).delete()
    instance, token = AuthToken.objects.create(user=user)
    return token, instance.expiry


def revoke(token_instance) -> None:
    token_instance.delete()


def revoke_all(user) -> int:
    deleted, _per_model = AuthToken.objects.filter(user=user).delete()
    return deleted


class TokenAuthentication(knox_auth.TokenAuthentication):
    """knox's token authentication: the same tokens, header, expiry and signals."""

    def authenticate_credentials(self, token):
        msg = _("Invalid token.")
        text = token.decode("utf-8")
        for auth_token in tokens_with_key(text[: CONSTANTS.TOKEN_KEY_LENGTH]):
            if self._cleanup_token(auth_token):
                continue
            try:
                digest = hash_token(text)
            except (TypeError, binascii.Error):
                raise exceptions.AuthenticationFailed(msg) from None
            if compare_digest(digest, auth_token.digest):
                if knox_settings.AUTO_REFRESH and auth_token.expiry:
                    self.renew_token(auth_token)
                return self.validate_user(auth_token)
        raise exceptions.AuthenticationFailed(msg)

    def _cleanup_token(self, auth_token) -> bool:
        """True (and the token deleted) when the presented token has expired."""
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            username = auth_token.user.get_username()
            auth_token.delete()
            token_expired.send(sender=self.__class__, username=username, source="auth_token")
            return True
        return False


def tokens_with_key(token_key: str) -> list[AuthToken]:
    """The tokens whose lookup prefix is ``token_key``, each with its ``user``: one statement."""
    db = connections[DEFAULT_DB_ALIAS]
    sql, parts = _token_select(db.vendor)
    with db.cursor() as cursor:
        cursor.execute(sql, [token_key])
        rows = cursor.fetchall()
    found = []
    for row in rows:
        index, objs = 0, []
        for model, attnames, columns in parts:
            values = []
            for column, converters in columns:
                value = row[index]
                index += 1
                for converter in converters:
                    value = converter(value, column, db)
                values.append(value)
            objs.append(model.from_db(db.alias, attnames, values))
        auth_token, user = objs
        auth_token.user = user
        found.append(auth_token)
    return found


@cache
def _token_select(vendor: str) -> tuple[str, tuple]:
    """The statement (quoted names from the models' metadata; the key is a parameter) and,
    per model, its field names and the converters the ORM would apply to each column."""
    db = connections[DEFAULT_DB_ALIAS]
    quote = db.ops.quote_name
    columns, parts = [], []
    for alias, model in (("t", AuthToken), ("u", get_user_model())):
        fields = list(model._meta.concrete_fields)
        part = []
        for field in fields:
            column = field.get_col(alias)
            part.append((column, db.ops.get_db_converters(column) + column.get_db_converters(db)))
            columns.append(f"{quote(alias)}.{quote(field.column)}")
        parts.append((model, [field.attname for field in fields], part))
    token, user = AuthToken._meta, get_user_model()._meta
    sql = (
        f"SELECT {', '.join(columns)} FROM {quote(token.db_table)} t "
        f"JOIN {quote(user.db_table)} u ON u.{quote(user.pk.column)} = t.{quote(token.get_field('user').column)} "
        f"WHERE t.{quote(token.get_field('token_key').column)} = %s"
    )
    return sql, tuple(parts)
