"""Demo cases for ``seed_demo``: a few hundred cases of the five shipped processes, open
and closed, with outcomes, over the past two years (issue 15).

Everything is decided by one ``random.Random(seed)``: the people, which process, when a
case opens, how long each agency takes, the choices in every form and the outcome. The
cases are run through the real services (``start_case``, ``record_consent``,
``complete_task``, ``fire_timer``), so their tasks, events, handoffs, timers, consents and
outcomes are what a real case leaves behind. To give them a past, each case is run under
a moved clock (``simulated_clock``): Django's ``timezone.now`` and SpiffWorkflow's timer
clock answer the simulated moment, so every row the services stamp (opened, created,
completed, closed, the reference's year, the timer due times) agrees with the others.
A case lives until its process ends or until the simulated moment would pass the real
one: the cases opened lately are the ones still open, as in a real service.

A person may have a path of several cases: a referral or a prison release that ended
in a home continues as settling in, and some of those with a notice of eviction.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import heapq
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone as django_timezone

from bpmn.engine.clock import moved_clock
from bpmn.models import ProcessDefinition
from bpmn.registry import runtime_for
from core.national_id import synthetic_national_id
from permissions.models import Agency
from workflows import services
from workflows.jobs.queue import EXTERNAL_KINDS
from workflows.models import ACTIVE_TASK_STATUSES, Case, CaseStatus, Job, JobKind, JobStatus, Person, Task
from workflows.services.consents import person_consent_basis

DEFAULT_SEED = 2026
DEFAULT_COUNT = 200
HISTORY_DAYS = 730

# Which process a person's path starts with, and how often.
FIRST_PROCESS_WEIGHTS = {
    "housing_referral": 34,
    "prison_release_to_housing": 24,
    "institution_discharge_to_housing": 18,
    "settling_in": 12,
    "eviction_prevention": 12,
}
# After a case that ended in a home: how likely the next case of the person's path is.
FOLLOW_ON = {
    "housing_referral": ("settling_in", 0.45),
    "prison_release_to_housing": ("settling_in", 0.35),
    "institution_discharge_to_housing": ("settling_in", 0.35),
    "settling_in": ("eviction_prevention", 0.15),
}
# Who starts each process (a user of the agency that would).
STARTERS = {
    "housing_referral": ("bjorn", "nils", "nora"),
    "prison_release_to_housing": ("kari",),
    "institution_discharge_to_housing": ("siri",),
    "settling_in": ("bjorn",),
    "eviction_prevention": ("bjorn",),
}
# Who works each agency kind's tasks.
WORKERS = {  # the housing agency's tasks: the case's responsible contact
    "nav": ("nils", "nora"),
    "health": ("helga",),
    "hospital": ("siri",),
    "prison": ("kari",),
    "municipality": ("mona",),
}
# The housing contacts who own cases, and how many each (bjorn also coordinates).
CONTACTS = (("bjorn", 3), ("hanne", 4), ("tore", 4))
LEAD = "lise"
# Outcome kind (and for a home, the likely forms of tenure) per process, weighted.
OUTCOMES = {
    "housing_referral": [("bosatt", 68), ("ikke_bosatt", 20), ("samtykke_trukket", 6), ("flyttet_fra_kommunen", 6)],
    "prison_release_to_housing": [("bosatt", 70), ("bolig_beholdt", 14), ("ikke_bosatt", 8), ("samtykke_trukket", 8)],
    "institution_discharge_to_housing": [("bosatt", 66), ("ikke_bosatt", 22), ("dod", 4), ("flyttet_fra_kommunen", 8)],
    "settling_in": [
        ("bolig_beholdt", 76),
        ("flyttet_til_annen_bolig", 10),
        ("utkastet", 6),
        ("flyttet_fra_kommunen", 8),
    ],
    "eviction_prevention": [("bolig_beholdt", 56), ("flyttet_til_annen_bolig", 24), ("utkastet", 20)],
}
# Sarpsborg's figures: more people into owned homes with startlån than into rentals.
TENURES = [("eid_med_startlan", 40), ("kommunal_utleiebolig", 30), ("privat_leie", 20), ("omsorgsbolig", 10)]
# Fields whose value is a date the work waits for: the task is done on that day, not before.
WAITS_FOR = {
    "Task_confirm_release_date": "expected_release_date",
    "Task_move_in": "planned_move_in",
}
RENTED = ("privat_leie", "kommunal_utleiebolig")
# Dates ahead of the form's day, by words in the field's name: (low, high) days.
FUTURE_DATES = (
    (("release",), (70, 240)),
    (("discharge", "eviction"), (14, 50)),
    (("planned", "lease", "move", "expected"), (5, 30)),
)
# Fields of the case's data that say where the person moved in, and when (first found wins).
TENURE_FIELDS = ("housing_path", "housing_type", "settling_tenure")
HOUSED_DATE_FIELDS = (
    "moved_in_date",
    "move_in_date",
    "other_home_move_date",
    "planned_move_in_date",
    "lease_start_date",
)

FIRST_NAMES = [
    "Anne",
    "Arne",
    "Astrid",
    "Bente",
    "Bjørnar",
    "Camilla",
    "Dag",
    "Eirik",
    "Elin",
    "Espen",
    "Frode",
    "Geir",
    "Gunn",
    "Hanne",
    "Hege",
    "Henrik",
    "Ida",
    "Ingrid",
    "Jan",
    "Jonas",
    "Kjetil",
    "Knut",
    "Kristin",
    "Lars",
    "Linda",
    "Line",
    "Magnus",
    "Marius",
    "Marte",
    "Mette",
    "Morten",
    "Nina",
    "Odd",
    "Ole",
    "Per",
    "Ragnhild",
    "Rune",
    "Siv",
    "Silje",
    "Stian",
    "Svein",
    "Terje",
    "Thomas",
    "Tone",
    "Tor",
    "Trine",
    "Turid",
    "Vegard",
    "Åse",
    "Øystein",
]
LAST_NAMES = [
    "Andersen",
    "Berg",
    "Bakken",
    "Dahl",
    "Eriksen",
    "Fredriksen",
    "Haugen",
    "Hansen",
    "Halvorsen",
    "Jakobsen",
    "Johansen",
    "Karlsen",
    "Kristiansen",
    "Larsen",
    "Lie",
    "Lund",
    "Moen",
    "Nilsen",
    "Olsen",
    "Pedersen",
    "Solberg",
    "Strand",
    "Sørensen",
    "Nguyen",
    "Ahmed",
    "Kowalski",
    "Johannessen",
    "Jensen",
]
STREETS = (
    "Storgata",
    "Kirkegata",
    "Tuneveien",
    "Jernbanegata",
    "Roald Amundsens gate",
    "Glommengata",
    "Grålumveien",
    "Hafslundsgata",
    "Borgergata",
    "Sandesundsveien",
)
LANDLORDS = (
    "Sarpsborg kommune, eiendom",
    "Borg Utleie AS",
    "Privat utleier",
    "Sarpsborg Boligstiftelse",
    "Østfold Bolig AS",
)
NOT_HOUSED_REASONS = (
    "Står på venteliste for kommunal bolig.",
    "Takket nei til boligen som ble tilbudt.",
    "Fikk ikke startlån, og privat leie var for dyrt.",
    "Bor midlertidig hos familie; ønsker ikke videre oppfølging nå.",
)
NOTES = (
    "Avtalt ny samtale om to uker.",
    "Personen møtte til avtalt tid.",
    "Kontakt med utleier og NAV samme dag.",
    "Oppfølging etter avtale i ansvarsgruppen.",
    "Ingen endringer siden forrige kontakt.",
    "Personen ønsker tett oppfølging den første tiden.",
)


@dataclass
class SimulatedClock:
    moment: dt.datetime

    def advance_to(self, moment: dt.datetime) -> None:
        self.moment = max(self.moment, moment)


@contextlib.contextmanager
def simulated_clock(clock: SimulatedClock) -> Iterator[None]:
    """Run the services at ``clock.moment``: Django's ``timezone.now`` (which the services,
    ``auto_now`` fields and the job table read) and SpiffWorkflow's timer clock answer it.
    Only for this single-threaded seeding command; restored on the way out."""
    real_now = django_timezone.now
    django_timezone.now = lambda: clock.moment
    try:
        with moved_clock(lambda: clock.moment):
            yield
    finally:
        django_timezone.now = real_now


@dataclass
class PlannedCase:
    process_key: str
    opens_at: dt.datetime
    starter: str
    outcome: str
    tenure: str


@dataclass(order=True)
class _Path:
    """One person's path; ordered by when its next case opens (the seeding order)."""

    next_at: dt.datetime
    number: int
    person: dict = field(compare=False)
    process_key: str = field(compare=False)
    follows: int | None = field(default=None, compare=False)  # the case this one continues


@dataclass
class SeedResult:
    cases: int = 0
    open: int = 0
    closed: int = 0
    tasks_completed: int = 0
    timers_fired: int = 0
    skipped: bool = False


def _weighted(rng: random.Random, choices) -> str:
    values, weights = zip(*choices, strict=True)
    return rng.choices(values, weights=weights)[0]


def plan_paths(count: int, *, seed: int, now: dt.datetime) -> list[_Path]:
    """The people and the first case of each path; ``count`` is the number of paths."""
    rng = random.Random(seed)  # noqa: S311 (demo data, reproducible on purpose)
    taken: set[str] = set()
    paths = []
    for number in range(count):
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        person = {"name": name, "national_id": synthetic_national_id(rng, taken)}
        opens_at = _working_hours(now - dt.timedelta(days=rng.uniform(2, HISTORY_DAYS)), rng)
        paths.append(_Path(opens_at, number, person, _weighted(rng, FIRST_PROCESS_WEIGHTS.items())))
    return paths


def _working_hours(moment: dt.datetime, rng: random.Random, *, later: bool = False) -> dt.datetime:
    """A working hour on the day of ``moment``, a weekend moved to the Friday before, or with
    ``later`` to the Monday after (a case that follows another never opens before it closed)."""
    local = django_timezone.localtime(moment)
    day = local.date()
    while day.weekday() >= 5:
        day += dt.timedelta(days=1) if later else -dt.timedelta(days=1)
    at = dt.time(rng.randrange(8, 15), rng.randrange(0, 60))
    return dt.datetime.combine(day, at, tzinfo=local.tzinfo)


def seed_demo_cases(
    count: int = DEFAULT_COUNT, *, seed: int = DEFAULT_SEED, now: dt.datetime | None = None
) -> SeedResult:
    """Seed about ``count`` cases (``count`` paths of one person each; some paths go on to a
    second or third case, so slightly more). Does nothing when the first planned person is
    already there (seeded before) or ``count`` is 0."""
    now = now or django_timezone.now()
    result = SeedResult()
    if count <= 0:
        return result
    paths = plan_paths(count, seed=seed, now=now)
    if Person.objects.filter(national_id=paths[0].person["national_id"]).exists():
        result.skipped = True
        return result
    seeder = _Seeder(seed, now)
    heap = list(paths)
    heapq.heapify(heap)
    while heap:
        path = heapq.heappop(heap)
        case = seeder.run_case(path)
        result.cases += 1
        follow_on = seeder.follow_on(case, path)
        if follow_on is not None:
            heapq.heappush(heap, follow_on)
    seeded = Case.objects.filter(person__national_id__in=seeder.national_ids)
    # The e-mails about tasks of the past are history, not work for the worker.
    Job.objects.filter(case__in=seeded, kind__in=EXTERNAL_KINDS).delete()
    result.open = seeded.filter(status=CaseStatus.OPEN).count()
    result.closed = seeded.filter(status=CaseStatus.COMPLETED).count()
    result.tasks_completed, result.timers_fired = seeder.tasks_completed, seeder.timers_fired
    return result


class _Seeder:
    def __init__(self, seed: int, now: dt.datetime):
        self.rng = random.Random(seed + 1)  # noqa: S311 (demo data, reproducible on purpose)
        self.limit = now - dt.timedelta(hours=1)
        self.users = {user.username: user for user in get_user_model().objects.all()}
        self.agencies = {agency.kind: agency for agency in Agency.objects.order_by("pk")}
        self.national_ids: set[str] = set()
        self.tasks_completed = self.timers_fired = 0

    # --- one case -----------------------------------------------------------------------

    def run_case(self, path: _Path) -> Case:
        rng = self.rng
        plan = PlannedCase(
            process_key=path.process_key,
            opens_at=path.next_at,
            starter=rng.choice(STARTERS[path.process_key]),
            outcome=_weighted(rng, OUTCOMES[path.process_key]),
            tenure=_weighted(rng, TENURES),
        )
        clock = SimulatedClock(plan.opens_at)
        with simulated_clock(clock), transaction.atomic():
            definition = ProcessDefinition.objects.filter(key=plan.process_key).order_by("-version").first()
            assert definition is not None, "seed_demo deploys the shipped processes first"
            kinds = set(definition.metadata.get("lanes", {}).values())
            contact = self.users[_weighted(rng, CONTACTS)]
            starter = self.users[plan.starter]
            housing_starts = starter.memberships.filter(agency=self.agencies["housing"]).exists()
            participants = {kind: self.agencies[kind] for kind in sorted(kinds)}
            if path.follows is not None:
                # The next case of the person's path, started by the contact of the last one;
                # most people consent to their housing data going along.
                source = Case.objects.select_related("responsible").get(pk=path.follows)
                case = services.start_follow_on(
                    actor=source.responsible,
                    case=source,
                    process_key=plan.process_key,
                    participants=participants,
                    responsible=contact,
                    consent_categories=["housing"] if rng.random() < 0.8 else [],
                ).case
            else:
                case = services.start_case(
                    actor=starter,
                    process_key=plan.process_key,
                    person=path.person,
                    participants=participants,
                    responsible=contact if housing_starts else None,
                )
            if case.responsible_id != contact.pk:  # another agency started it: the lead assigns it
                clock.advance_to(clock.moment + dt.timedelta(minutes=rng.randrange(20, 240)))
                case = services.assign_responsible(actor=self.users[LEAD], case=case, responsible=contact)
            self.national_ids.add(path.person["national_id"])
            self._consents(case, clock, kinds)
            self._work(case, plan, clock)
        return case

    def _consents(self, case: Case, clock: SimulatedClock, kinds: set[str]) -> None:
        """Most people consent at the first meeting to sharing what the others need."""
        clock.advance_to(clock.moment + dt.timedelta(minutes=self.rng.randrange(10, 90)))
        # The person's consent (the first active consent provision of the list: samtykke),
        # recorded by the coordinator; coordination needs none (every participant sees it).
        consent = person_consent_basis()
        for kind in sorted(kinds - {"housing"}):
            if self.rng.random() < 0.85 and not case.consents.filter(agency=self.agencies[kind]).exists():
                categories = ["housing"] + (["economy"] if kind == "municipality" else [])
                services.record_consent(
                    actor=case.responsible,
                    case=case,
                    agency=self.agencies[kind],
                    categories=categories,
                    purpose="Samarbeid om bolig og oppfølging",
                    legal_basis=consent,
                )

    def _work(self, case: Case, plan: PlannedCase, clock: SimulatedClock) -> None:
        """Work the case's tasks and fire its timers in time order until it ends or until
        its next step would lie in the future."""
        instance = case.instances.get()
        runtime = runtime_for(instance.definition_id)
        for _ in range(60):  # a bound: no shipped process needs that many steps
            tasks = list(
                Task.objects.filter(case=case, status__in=ACTIVE_TASK_STATUSES).select_related("agency").order_by("id")
            )
            timer = Job.objects.filter(instance=instance, kind=JobKind.TIMER, status=JobStatus.PENDING).first()
            task_at = self._when_done(case, tasks[0], clock) if tasks else None
            if timer is not None and (task_at is None or timer.due_at <= task_at):
                if timer.due_at > self.limit:
                    return
                clock.advance_to(timer.due_at + dt.timedelta(minutes=1))
                services.fire_timer("seed_demo", job_id=timer.pk)
                self.timers_fired += 1
                continue
            if task_at is None or task_at > self.limit:
                return
            clock.advance_to(task_at)
            task = tasks[0]
            kind = task.agency.kind
            actor = case.responsible if kind == "housing" else self.users[self.rng.choice(WORKERS[kind])]
            schema, _ = runtime.form_for(task.element_id)
            services.complete_task(actor=actor, task_id=task.pk, data=self._form_data(case, schema, plan, clock))
            self.tasks_completed += 1
            case.status, case.data = Case.objects.values_list("status", "data").get(pk=case.pk)
            if case.status != CaseStatus.OPEN:
                return

    def _when_done(self, case: Case, task: Task, clock: SimulatedClock) -> dt.datetime:
        """An agency takes from an hour to a couple of weeks; a task tied to a date waits for it."""
        rng = self.rng
        delay = dt.timedelta(days=rng.choice((0, 1, 1, 2, 3, 5, 8, 13)), hours=rng.randrange(1, 6))
        at = clock.moment + delay
        waits_for = case.data.get(WAITS_FOR.get(task.element_id, ""))
        if isinstance(waits_for, str):
            at = max(at, dt.datetime.combine(dt.date.fromisoformat(waits_for), dt.time(10), tzinfo=at.tzinfo))
        return at

    # --- form data ------------------------------------------------------------------------

    def _form_data(self, case: Case, schema: dict | None, plan: PlannedCase, clock: SimulatedClock) -> dict:
        today = django_timezone.localdate(clock.moment)
        properties = (schema or {}).get("properties", {})
        required = set((schema or {}).get("required", ()))
        data = {name: self._value(name, prop, today) for name, prop in properties.items()}
        # Optional fields are filled in about two times out of three, as people do.
        data = {k: v for k, v in data.items() if k in required or self.rng.random() < 0.65}
        data.update(self._decisions(plan, properties, case, today))
        return {name: value for name, value in data.items() if value is not None}

    def _value(self, name: str, prop: dict, today: dt.date):
        rng = self.rng
        kind = prop.get("type")
        if "enum" in prop:
            return rng.choice(prop["enum"])
        if kind == "boolean":
            return rng.random() < 0.75
        if kind == "integer":
            low, high = _integer_range(name)
            low, high = max(low, prop.get("minimum", low)), min(high, prop.get("maximum", high))
            return rng.randrange(low, high + 1)
        if prop.get("format") == "date":
            ahead = next((days for words, days in FUTURE_DATES if any(w in name for w in words)), None)
            if ahead is not None:
                return (today + dt.timedelta(days=rng.randrange(*ahead))).isoformat()
            return (today - dt.timedelta(days=rng.randrange(0, 4))).isoformat()
        if kind == "string":
            if "address" in name or "offered_home" in name or "place" in name:
                return f"{rng.choice(STREETS)} {rng.randrange(1, 80)}, 1700 Sarpsborg"
            if "landlord" in name:
                return rng.choice(LANDLORDS)
            if name in ("coordinator_name", "follow_up_responsible", "health_contact_person"):
                return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            text = rng.choice(NOTES)
            return text[: prop["maxLength"]] if "maxLength" in prop else text
        return None

    def _decisions(self, plan: PlannedCase, properties: dict, case: Case, today: dt.date) -> dict:
        """The answers that steer the process towards the planned outcome."""
        home = plan.outcome in ("bosatt", "flyttet_til_annen_bolig")
        kept = plan.outcome == "bolig_beholdt"
        decisions = {
            # prison release: a person who keeps the home takes the short path
            "has_home": kept,
            "housing_situation": self.rng.choice(("leid_bolig", "kommunal_bolig")) if kept else "uten_bolig",
            # referral
            "housing_path": plan.tenure,
            "municipal_housing_granted": home,
            "startlan_granted": home,
            "home_secured": home,
            # discharge: the municipality can take the patient home at once in some cases
            "can_receive": home and self.rng.random() < 0.3,
            # settling in: visits every fortnight or month
            "visit_interval": self.rng.choice(("P2W", "P1M", "P1M")),
            "visit_count": self.rng.randrange(2, 7),
            # eviction: an agreement keeps the home; else another home, else emergency housing
            "agreement_reached": kept,
            "other_home_found": plan.outcome == "flyttet_til_annen_bolig",
        }
        for name in ("housing_type", "settling_tenure"):
            if name in properties and plan.tenure in properties[name].get("enum", ()):
                decisions[name] = plan.tenure
        if "outcome" in properties:
            decisions.update(self._outcome(plan, case, today))
        return {name: value for name, value in decisions.items() if name in properties}

    def _outcome(self, plan: PlannedCase, case: Case, today: dt.date) -> dict:
        data = case.data
        opened = django_timezone.localdate(case.opened_at)
        values = {
            "outcome": plan.outcome,
            "outcome_tenure": None,
            "outcome_housed_date": None,
            "outcome_reason": None,
            "outcome_referral_date": data.get("referral_date"),  # else the case's opening
        }
        if plan.outcome in ("bosatt", "flyttet_til_annen_bolig", "bolig_beholdt"):
            # A home kept is mostly rented; a new one's form of tenure is what the case chose.
            planned = self.rng.choice(RENTED) if plan.outcome == "bolig_beholdt" else plan.tenure
            tenure = next((data[f] for f in TENURE_FIELDS if data.get(f) in dict(TENURES)), planned)
            values["outcome_tenure"] = tenure
        if plan.outcome in ("bosatt", "flyttet_til_annen_bolig"):
            moved = next((data[f] for f in HOUSED_DATE_FIELDS if isinstance(data.get(f), str)), None)
            moved = min(dt.date.fromisoformat(moved), today) if moved else today
            referred = dt.date.fromisoformat(data["referral_date"]) if data.get("referral_date") else opened
            values["outcome_housed_date"] = max(moved, opened, referred).isoformat()
        if plan.outcome == "ikke_bosatt":
            values["outcome_reason"] = self.rng.choice(NOT_HOUSED_REASONS)
        return values

    # --- the person's path --------------------------------------------------------------

    def follow_on(self, case: Case, path: _Path) -> _Path | None:
        """The next case of the person's path, when this one ended in a home and the dice say so."""
        case.refresh_from_db()
        outcome = getattr(case, "outcome", None) if case.status == CaseStatus.COMPLETED else None
        next_process = FOLLOW_ON.get(case.process_key)
        if outcome is None or next_process is None or not outcome.kind.has_home or case.closed_at is None:
            return None
        process_key, probability = next_process
        if self.rng.random() >= probability:
            return None
        opens_at = _working_hours(case.closed_at + dt.timedelta(days=self.rng.randrange(1, 20)), self.rng, later=True)
        if opens_at > self.limit:
            return None
        return _Path(opens_at, path.number, path.person, process_key, follows=case.pk)


def _integer_range(name: str) -> tuple[int, int]:
    """Plausible amounts by what the field counts (kroner, people, visits)."""
    if "startlan" in name:
        return 1_500_000, 3_200_000
    if "grant" in name:
        return 50_000, 300_000
    if "income" in name:
        return 9_000, 38_000
    if "arrears" in name or "covered" in name:
        return 4_000, 45_000
    if "rent" in name:
        return 7_000, 14_000
    if "allowance" in name:
        return 1_000, 4_500
    if "household" in name:
        return 1, 4
    if "days" in name:
        return 1, 30
    if "price" in name:
        return 2_000_000, 3_500_000
    return 1, 10
