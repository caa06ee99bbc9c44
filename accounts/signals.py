"""A password change ends every API token of the user (sessions end by themselves:
Django keys them to the password hash)."""

from django.contrib.auth import get_user_model
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from accounts import lockout, tokens  # noqa: F401 - lockout: its receiver

User = get_user_model()


@receiver(pre_save, sender=User, dispatch_uid="accounts.note_password_change")
def note_password_change(sender, instance, raw=False, update_fields=None, **kwargs):
    if raw or instance.pk is None or (update_fields is not None and "password" not in update_fields):
        return
    stored = User.objects.filter(pk=instance.pk).values_list("password", flat=True).first()
    instance._accounts_password_changed = stored is not None and stored != instance.password


@receiver(post_save, sender=User, dispatch_uid="accounts.revoke_tokens_on_password_change")
def revoke_tokens_on_password_change(sender, instance, raw=False, **kwargs):
    if getattr(instance, "_accounts_password_changed", False):
        instance._accounts_password_changed = False
        tokens.revoke_all(instance)
