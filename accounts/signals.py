"""A password change ends every API token and every device cookie of the user (sessions
end by themselves: Django keys them to the password hash). Making a user inactive ends their
tokens, device cookies and sessions, and every password-reset link mailed before
(``Deactivation``, written by a trigger on the user table for any deactivation): made active
again, they sign in again. A single sign-on user has no usable password. Deleting a TOTP
device ends the tokens issued with its codes."""

from django.contrib.auth import SESSION_KEY, get_user_model, user_logged_in
from django.contrib.auth.hashers import is_password_usable
from django.db.models.signals import post_save, pre_delete, pre_save
from django.dispatch import receiver
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken

from accounts import account_requests, device_cookies, lockout, sessions, tokens  # noqa: F401 - lockout: its receiver
from accounts.models import ExternalIdentity, ServiceAccount, TokenDevice
from permissions.role_requests import first_case_role_given

User = get_user_model()


@receiver(pre_save, sender=User, dispatch_uid="accounts.single_sign_on_users_have_no_password")
def single_sign_on_users_have_no_password(sender, instance, raw=False, update_fields=None, **kwargs):
    """A single sign-on user signs in through the identity provider only: a password given
    to them (the admin's form, a shell) is made unusable as it is saved. With one they signed
    in past the provider, so a user it had closed or moved kept the memberships of their last
    single sign-on login (only single sign-on sessions are checked with it again), and the
    password reset mailed their address a link. (Before ``note_password_change``: the
    change counts, and ends their tokens and sessions.)"""
    if raw or instance.pk is None or (update_fields is not None and "password" not in update_fields):
        return
    if not instance.has_usable_password():
        return
    if ExternalIdentity.objects.filter(user_id=instance.pk).exists():
        instance.set_unusable_password()
    elif ServiceAccount.objects.filter(user_id=instance.pk).exists():
        # An agency's system signs in with its keys only (``accounts.service_accounts``). The
        # unusable password it has is kept as it is: a new one would count as a password
        # change and end the keys its system runs on.
        stored = User.objects.filter(pk=instance.pk).values_list("password", flat=True).first()
        if stored and not is_password_usable(stored):
            instance.password = stored
        else:
            instance.set_unusable_password()


@receiver(post_save, sender=ExternalIdentity, dispatch_uid="accounts.identity_ends_the_password")
def identity_ends_the_password(sender, instance, raw=False, **kwargs):
    """An identity added to a user who has a password (an administrator linking an existing
    account, a shell), or moved to one, makes that password unusable now, not at the user's
    next save: until then it signed in past the provider. The save counts as a password
    change (it ends the user's tokens); their sessions end too, a password session being
    what it was."""
    if raw:
        return
    user = User.objects.filter(pk=instance.user_id).first()
    if user is None or not user.has_usable_password():
        return
    user.set_unusable_password()
    user.save(update_fields=["password"])
    sessions.end_sessions_of(user)


@receiver(pre_save, sender=User, dispatch_uid="accounts.note_password_change")
def note_password_change(sender, instance, raw=False, update_fields=None, **kwargs):
    """Notes whether this save changes the password or makes the user inactive."""
    saved = None if update_fields is None else set(update_fields)
    if raw or instance.pk is None or (saved is not None and not {"password", "is_active"} & saved):
        return
    stored = User.objects.filter(pk=instance.pk).values_list("password", "is_active").first()
    if stored is None:
        return
    password, was_active = stored
    instance._accounts_password_changed = (saved is None or "password" in saved) and password != instance.password
    instance._accounts_deactivated = (saved is None or "is_active" in saved) and was_active and not instance.is_active


@receiver(post_save, sender=User, dispatch_uid="accounts.revoke_tokens_on_password_change")
def revoke_tokens_on_password_change(sender, instance, raw=False, **kwargs):
    if getattr(instance, "_accounts_password_changed", False):
        instance._accounts_password_changed = False
        tokens.revoke_all(instance)
        device_cookies.revoke_all(instance)
    if getattr(instance, "_accounts_deactivated", False):
        instance._accounts_deactivated = False
        tokens.revoke_all(instance)
        device_cookies.revoke_all(instance)
        sessions.end_sessions_of(instance)
        # Every password-reset link mailed before ends for good too (made active again, the
        # user asks for a new one, ``web.password_reset.ResetTokens``): the ``Deactivation``
        # is written by a trigger on the user table (accounts 0008), so a bulk update or
        # plain SQL records it as this save does.


@receiver(user_logged_in, dispatch_uid="accounts.stamp_session_sign_in")
def stamp_session_sign_in(sender, request, user, **kwargs):
    """Django's ``login()`` (a password or single sign-on sign-in to the web): the session
    remembers the user's last deactivation (``accounts.sessions.stamp_sign_in``). Not for an
    API token's issue (``accounts.sign_in.issue_token`` names its ``second_factor``): it
    signs no session in, and would stamp afresh a session from before a deactivation that
    the same browser still carried."""
    if "second_factor" in kwargs or request is None:
        return
    session = getattr(request, "session", None)
    if session is not None and session.get(SESSION_KEY) == str(user.pk):
        sessions.stamp_sign_in(session, user)


@receiver(pre_delete, sender=TOTPDevice, dispatch_uid="accounts.end_tokens_of_deleted_device")
def end_tokens_of_deleted_device(sender, instance, **kwargs):
    """A deleted TOTP device (a lost phone: the admin, a shell) ends the API tokens issued
    with its codes in the deletion's own transaction (Django sends ``pre_delete`` inside
    it): once it commits, no request passes with them. Deleted, not only unbound: a token
    left without its device would still pass for a user who needs no second factor now."""
    bound = list(TokenDevice.objects.filter(device=instance).values_list("token_id", flat=True))
    if bound:
        AuthToken.objects.filter(pk__in=bound).delete()


@receiver(pre_delete, sender=ServiceAccount, dispatch_uid="accounts.end_keys_of_service_account")
def end_keys_of_service_account(sender, instance, **kwargs):
    """An account that is no longer a service account loses its keys (they last
    ``API_SERVICE_KEY_DAYS`` and need no one-time code: a person's account has no use for them)."""
    AuthToken.objects.filter(user_id=instance.user_id).delete()


@receiver(first_case_role_given, dispatch_uid="accounts.first_case_role_ends_credentials")
def first_case_role_ends_credentials(sender, user_id, actor, **kwargs) -> str:
    """A user's first role opening case data, approved: the credentials set before it end
    (``account_requests.end_credentials``), and the approver is given the new enrolment link."""
    return account_requests.end_credentials(user_id, by=actor)
