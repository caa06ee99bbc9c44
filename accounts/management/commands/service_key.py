"""``manage.py service_key USERNAME``: make the user a service account (an agency's system:
no password sign-in at all, ``accounts.service_accounts``) and print a new API key for it,
once. Give the key to the agency's system by a channel fit for a password; delete an old key
in the admin (*Knox > Auth tokens*) once the system uses the new one."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts import service_accounts


class Command(BaseCommand):
    help = "Make the user a service account (API keys only, no password) and print a new API key for it."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = get_user_model()._default_manager.filter(username=username).first()
        if user is None:
            raise CommandError("no such user")
        try:
            key, expiry = service_accounts.issue_key(user, by="manage.py service_key")
        except service_accounts.NotAServiceAccount as refused:
            raise CommandError(str(refused)) from None
        self.stdout.write(key)
        self.stderr.write(f"expires {expiry:%Y-%m-%d %H:%M %Z}")
