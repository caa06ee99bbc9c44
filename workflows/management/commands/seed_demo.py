import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from permissions.demo import seed_demo_cast
from workflows.demo_cases import DEFAULT_COUNT, DEFAULT_SEED, seed_demo_cases
from workflows.seeded_rows import restore_seeded_rows


class Command(BaseCommand):
    help = (
        "Create the demo agencies and users (design §9) and a few hundred demo cases of the shipped "
        "processes over the past two years. Refuses when DEBUG is off unless --force."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="seed even with DEBUG off")
        parser.add_argument(
            "--cases",
            type=int,
            default=DEFAULT_COUNT,
            help=f"people whose cases to seed (default {DEFAULT_COUNT}; 0: the cast only); needs the shipped processes",
        )
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="the random seed (same seed, same cases)")

    def handle(self, *args, force=False, cases=DEFAULT_COUNT, seed=DEFAULT_SEED, **options):
        if not settings.DEBUG and not force:
            raise CommandError("DEBUG is off: this looks like production. Use --force to seed demo users anyway.")
        if cases < 0:
            raise CommandError("--cases must be 0 or more")
        password = settings.BROBYGGER["DEMO_PASSWORD"]
        restored = restore_seeded_rows()  # emptied by ``manage.py flush``; cases need them
        if restored.outcome_kinds or restored.legal_bases:
            self.stdout.write(
                f"Restored what the migrations seeded: {restored.outcome_kinds} outcome kinds, "
                f"{restored.legal_bases} legal bases"
            )
        rows = seed_demo_cast(password)
        started = time.monotonic()
        result = seed_demo_cases(cases, seed=seed)
        if result.skipped:
            self.stdout.write("Demo cases: already seeded")
        elif result.cases:
            self.stdout.write(
                f"Demo cases: {result.cases} ({result.open} open, {result.closed} closed), "
                f"{result.tasks_completed} tasks completed, {result.timers_fired} timers fired, "
                f"in {time.monotonic() - started:.1f} s"
            )
        self.stdout.write(f"Demo logins (password: {password})")
        for username, agency, role in rows:
            self.stdout.write(f"  {username:<6} {role:<14} {agency}")
