"""The loader and the timings of ``python -m bench.insight`` (imported once Django is set up)."""

from __future__ import annotations

import datetime
import random
import statistics
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client

from bpmn.loading import bpmn_files, forms_for
from bpmn.models import ProcessDefinition
from bpmn.registry import runtime_for
from bpmn.services import deploy_definition
from insight.recording import TABLES, Tally
from permissions.demo import seed_demo_cast
from permissions.models import Agency
from workflows.models import CaseOutcome, OutcomeKind, Tenure

PROCESSES = Path(__file__).resolve().parent.parent / "bpmn" / "processes"
PAGES = (
    "/insight/",
    "/insight/?agency={nav}",
    "/insight/annual/",
    "/insight/heatmap/?process=housing_referral",
    "/insight/export/ball_by_task.xlsx",
    "/insight/export/closed_by_outcome.csv",
)
TASKS_PER_CASE = 10


def load(tasks: int, seed: int = 16) -> dict:

    seed_demo_cast("bench-password")
    for path in bpmn_files([PROCESSES]):
        deploy_definition(
            actor=None, bpmn_xml=path.read_bytes(), forms=forms_for(path), filename=path.name, check_permission=False
        )
    agencies = {agency.kind: agency.pk for agency in Agency.objects.all()}
    rng = random.Random(seed)  # noqa: S311 (synthetic figures, no secret)
    today = datetime.date.today()
    months = [(today.replace(day=1) - datetime.timedelta(days=30 * back)).replace(day=1) for back in range(36)]
    tally = Tally()
    kinds = list(OutcomeKind.objects.all())
    for definition in ProcessDefinition.objects.all():
        runtime = runtime_for(definition.pk)
        elements = [(element, spec["agency_kind"]) for element, spec in runtime.user_tasks.items()]
        kinds_in = sorted({kind for _, kind in elements if kind in agencies})
        scopes = [0, *sorted(agencies[kind] for kind in kinds_in)]
        share = tasks // ProcessDefinition.objects.count()
        for _ in range(share):
            element, kind = rng.choice(elements)
            month = rng.choice(months)
            created = datetime.datetime(month.year, month.month, rng.randint(1, 28), tzinfo=datetime.UTC)
            held = datetime.timedelta(hours=rng.expovariate(1 / 60))
            due = created + datetime.timedelta(days=5) if rng.random() < 0.7 else None
            tally.task_completed(
                scopes,
                definition_id=definition.pk,
                element_id=element,
                agency_id=agencies.get(kind, agencies["housing"]),
                created_at=created,
                completed_at=created + held,
                due_at=due,
            )
        for _ in range(share // TASKS_PER_CASE):
            month = rng.choice(months)
            tally.case_opened(scopes, day=month, process_key=definition.key)
            if rng.random() < 0.8:
                kind = rng.choice(kinds)
                housed = month + datetime.timedelta(days=rng.randint(0, 200)) if kind.needs_tenure else None
                outcome = CaseOutcome(
                    kind=kind,
                    tenure=rng.choice(Tenure.values) if kind.needs_tenure else "",
                    referral_date=month,
                    housed_date=housed,
                )
                tally.case_closed(scopes, day=month, process_key=definition.key, outcome=outcome)
            if rng.random() < 0.3:
                tally.timer_fired(scopes, day=month, definition_id=definition.pk, element_id=rng.choice(elements)[0])
            if definition.key == "institution_discharge_to_housing":
                ready = month + datetime.timedelta(days=rng.randint(0, 20))
                tally.discharged(
                    scopes,
                    {
                        "discharge_ready_date": ready.isoformat(),
                        "discharge_date": (ready + datetime.timedelta(days=rng.randint(0, 15))).isoformat(),
                    },
                    day=month,
                )
    rows = {}
    for model in TABLES:
        rows[model._meta.model_name] = len(model._default_manager.bulk_create(tally.objects(model), batch_size=5000))
    return rows


def measure(rounds: int) -> dict:

    settings.REQUIRE_TWO_FACTOR = False
    nav = Agency.objects.get(kind="nav").pk
    result = {}
    for username in ("leif", "nina"):  # the process warmed up: templates, element names
        client = Client()
        client.force_login(get_user_model().objects.get(username=username))
        for page in PAGES:
            client.get(page.format(nav=nav), secure=True)
    for username in ("leif", "nina"):
        client = Client()
        client.force_login(get_user_model().objects.get(username=username))
        for page in PAGES:
            url = page.format(nav=nav)
            cache.clear()  # the first request after a change of the figures computes them
            start = time.perf_counter()
            client.get(url, secure=True)  # and caches them
            first = (time.perf_counter() - start) * 1000
            times = []
            for _ in range(rounds):
                start = time.perf_counter()
                response = client.get(url, secure=True)
                times.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, (url, response.status_code)
            times.sort()
            result[f"{username} {url}"] = {
                "p50_ms": round(statistics.median(times), 1),
                "p95_ms": round(times[max(0, int(0.95 * len(times)) - 1)], 1),
                "first_ms": round(first, 1),
            }
    return result
