"""``manage.py enrolment_link USERNAME``: a one-time link with which the user sets up
two-factor sign-in (``accounts.enrolment``), printed once. Give it to the user apart from
their password; their earlier links stop working."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts import enrolment


class Command(BaseCommand):
    help = "Print a one-time link with which the user sets up two-factor sign-in."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = get_user_model()._default_manager.filter(username=username).first()
        if user is None:
            raise CommandError("no such user")
        self.stdout.write(enrolment.issue(user))
