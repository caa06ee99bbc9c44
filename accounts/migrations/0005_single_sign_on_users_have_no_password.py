"""Single sign-on users given a password before 2026-12-05 (the admin's form, a shell) lose
it: they sign in through the identity provider only (``accounts.signals``). The API tokens
that password gave end with it (their sessions end by themselves: keyed to the password)."""

from django.conf import settings
from django.contrib.auth.hashers import is_password_usable, make_password
from django.db import migrations


def make_unusable(apps, schema_editor):
    user_model = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    auth_token = apps.get_model("knox", "AuthToken")
    for user in user_model.objects.filter(external_identity__isnull=False).only("pk", "password"):
        if is_password_usable(user.password):
            user_model.objects.filter(pk=user.pk).update(password=make_password(None))
            auth_token.objects.filter(user_id=user.pk).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_enrolment_link"),
        ("knox", "0009_extend_authtoken_field"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(make_unusable, migrations.RunPython.noop)]
