from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from permissions.demo import seed_demo_cast


class Command(BaseCommand):
    help = "Create the demo agencies and users (design §9). Refuses when DEBUG is off unless --force."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="seed even with DEBUG off")

    def handle(self, *args, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError("DEBUG is off: this looks like production. Use --force to seed demo users anyway.")
        password = settings.BROBYGGER["DEMO_PASSWORD"]
        rows = seed_demo_cast(password)
        self.stdout.write(f"Demo logins (password: {password})")
        for username, agency, role in rows:
            self.stdout.write(f"  {username:<6} {role:<14} {agency}")
