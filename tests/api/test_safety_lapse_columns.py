"""When a case's safety warnings lapse, as the lists across cases read it (h-lists).

The lists read it from the case's own columns (``Case.safety_since``, ``Case.safety_until``:
``policy.warning_columns``), never from its data per row. So every writer of a warning or of
its time in force keeps them (a start, a step, a confirmation, a carry into a follow-on, a
correction, an erasure, the migration), and the rule they give (``rules.case_warnings_in_force``)
agrees with the one every read of the case's data follows (``policy.warning_dates``), in Oslo
calendar days whatever summer time does."""

import datetime
import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.urls import reverse

from permissions import policy, rules
from retention.models import ErasureTrigger
from tests.api.test_safety_warnings import FORMS, SAFETY, WARNING, _model, people, warned  # noqa: F401 (fixtures)
from tests.clients import api
from workflows import selectors, services
from workflows.models import Case, Task

pytestmark = pytest.mark.django_db

COLUMNS = ("safety_since", "safety_until")


def _stored(case) -> dict:
    return dict(zip(COLUMNS, Case.objects.filter(pk=case.pk).values_list(*COLUMNS).get(), strict=True))


def _computed(case) -> dict:
    case = Case.objects.get(pk=case.pk)
    return policy.warning_columns(case, selectors.case_field_rules(case))


def test_a_step_that_records_a_warning_writes_when_it_lapses(warned):  # noqa: F811
    recorded = datetime.datetime.fromisoformat(warned.data_recorded_at["trussel"])
    assert _stored(warned) == {"safety_since": recorded, "safety_until": None} == _computed(warned)


def test_a_confirmation_moves_it_and_a_removal_empties_it(warned, people):  # noqa: F811
    Case.objects.filter(pk=warned.pk).update(
        data_recorded_at={"trussel": "2020-01-15T10:00:00+00:00"},
        safety_since=datetime.datetime(2020, 1, 15, 10, tzinfo=datetime.UTC),
    )
    url = reverse("api-case-safety-confirmations", args=[warned.pk])
    assert api(people["recorder"]).post(url, {"field": "trussel"}, format="json").status_code == 200
    stored = _stored(warned)
    assert stored == _computed(warned) and stored["safety_since"] > datetime.datetime.now(datetime.UTC) - (
        datetime.timedelta(minutes=5)
    )

    removal = {"field": "trussel", "value": None, "reason": "Gjelder ikke lenger"}
    corrections = reverse("api-case-corrections", args=[warned.pk])
    assert api(people["coordinator"]).post(corrections, removal, format="json").status_code == 201
    assert _stored(warned) == {"safety_since": None, "safety_until": None}


def test_a_correction_to_a_blank_text_empties_it(warned, people):  # noqa: F811
    """A blank text warns of nothing (``policy.holds_warning``): the lists count no warning."""
    blank = {"field": "trussel", "value": "   ", "reason": "Gjelder ikke lenger"}
    corrections = reverse("api-case-corrections", args=[warned.pk])
    assert api(people["recorder"]).post(corrections, blank, format="json").status_code == 201
    assert _stored(warned) == {"safety_since": None, "safety_until": None} == _computed(warned)


def test_a_follow_on_carries_it_from_the_warning_s_own_time(warned, people):  # noqa: F811
    from bpmn.services import deploy_definition

    deploy_definition(
        actor=None, bpmn_xml=_model("Proc_warn_next", "next_start.schema.json"), forms=FORMS, check_permission=False
    )
    recorded = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=200)
    Case.objects.filter(pk=warned.pk).update(data_recorded_at={"trussel": recorded.isoformat()})
    result = services.start_follow_on(actor=people["coordinator"], case=warned.pk, process_key="Proc_warn_next")
    assert _stored(result.case) == {"safety_since": recorded, "safety_until": None} == _computed(result.case)


def test_a_field_s_own_days_give_the_moment_it_lapses(people, agencies):  # noqa: F811
    from bpmn.services import deploy_definition

    forms = {**FORMS, "warn.schema.json": {"type": "object", "properties": {"trussel": {**SAFETY, "x-valid-days": 30}}}}
    deploy_definition(actor=None, bpmn_xml=_model("Proc_warn_30"), forms=forms, check_permission=False)
    case = services.start_case(
        actor=people["coordinator"],
        process_key="Proc_warn_30",
        person={"name": "Ola Testesen", "national_id": "17912099997"},
        participants={kind: agencies[kind].pk for kind in ("housing", "prison", "nav")},
    )
    task = Task.objects.get(case=case, element_id="T_warn")
    services.complete_task(actor=people["recorder"], task_id=task.pk, data={"trussel": WARNING})
    case = Case.objects.get(pk=case.pk)
    recorded = datetime.datetime.fromisoformat(case.data_recorded_at["trussel"])
    lapses = rules.local_midnight(policy.lapses_on(recorded, 30))
    assert _stored(case) == {"safety_since": None, "safety_until": lapses} == _computed(case)


def test_an_erasure_empties_it(warned, people, monkeypatch):  # noqa: F811
    """Which case had a warning, and when, tells that its person was warned about."""
    from retention import erasure

    for element, worker in (("T_nav", "other"), ("T_home", "coordinator")):
        task = Task.objects.get(case=warned, element_id=element)
        services.complete_task(actor=people[worker], task_id=task.pk, data={"notert": True})
    monkeypatch.setattr(erasure, "unmet_archive_duty", lambda case: ())  # the archive has its case file
    assert erasure.erase_case(
        warned.pk, trigger=ErasureTrigger.REQUEST, actor=people["coordinator"], reason="Ba om det"
    )
    assert _stored(warned) == {"safety_since": None, "safety_until": None}


def test_the_migration_fills_it_for_stored_cases(warned):  # noqa: F811
    expected = _stored(warned)
    Case.objects.filter(pk=warned.pk).update(safety_since=None, safety_until=None)
    importlib.import_module("workflows.migrations.0072_case_safety_lapse_columns").fill(apps, None)
    assert _stored(warned) == expected and expected["safety_since"] is not None


@pytest.mark.parametrize("days", [1, 30, 365])
@pytest.mark.parametrize(
    "recorded",
    [
        "2026-10-24T23:30:00+00:00",  # 01:30 on 25 October in Oslo, the night summer time ends
        "2026-03-28T23:30:00+00:00",  # 00:30 on 29 March, the night it begins
        "2026-06-30T21:59:59+00:00",  # 23:59:59 on 30 June
    ],
)
@pytest.mark.parametrize("own_days", [False, True])
def test_the_lists_rule_agrees_with_the_one_every_read_follows(settings, days, recorded, own_days):
    """At each moment around the midnight the warning lapses at (an hour either side, a
    second either side), the lists' rule from the columns says in force exactly when
    ``policy.warning_dates`` does, with the setting's days or the form's own."""
    settings.BROBYGGER = {**settings.BROBYGGER, "SAFETY_WARNING_DAYS": 7 if own_days else days}
    fields = policy.FieldRules(
        {"trussel": "safety"}, ("safety",), frozenset(), valid_days=(("trussel", days),) if own_days else ()
    )
    moment = datetime.datetime.fromisoformat(recorded)
    case = SimpleNamespace(data={"trussel": WARNING}, data_recorded_at={"trussel": recorded}, opened_at=moment)
    case.__dict__.update(policy.warning_columns(case, fields))
    midnight = rules.local_midnight(policy.lapses_on(moment, days))
    for offset in (-3600, -1, 0, 1, 3600, -86400, 86400):
        at = midnight + datetime.timedelta(seconds=offset)
        lapsed = "trussel" in policy.warning_dates(case, fields, ["trussel"], at)[0]
        reader = SimpleNamespace(**{rules._LISTS_CLOCK: rules.lists_clock(at)})
        assert rules.case_warnings_in_force(reader, case) == (not lapsed), (at, lapsed)


def test_a_move_to_a_version_whose_form_gives_the_field_its_own_days_counts_by_them(warned, people, agencies):  # noqa: F811
    """The lists count a warning's time by the version the case runs: moved to one whose form
    holds it 30 days, it lapses 30 days after it was recorded (no longer a year)."""
    from bpmn.services import deploy_definition
    from permissions.models import Membership, Role
    from workflows.services import versions

    forms = {**FORMS, "warn.schema.json": {"type": "object", "properties": {"trussel": {**SAFETY, "x-valid-days": 30}}}}
    deploy_definition(actor=None, bpmn_xml=_model("Proc_warn"), forms=forms, check_permission=False)
    admin = type(people["other"]).objects.create_user("prosessadmin-advarsel", password="x")
    Membership.objects.create(user=admin, agency=agencies["housing"], role=Role.PROCESS_ADMIN)
    admin.groups.add(agencies["housing"].group)
    versions.migrate_instances(actor=admin, key="Proc_warn", from_version=1)

    recorded = datetime.datetime.fromisoformat(warned.data_recorded_at["trussel"])
    lapses = rules.local_midnight(policy.lapses_on(recorded, 30))
    assert _stored(warned) == {"safety_since": None, "safety_until": lapses} == _computed(warned)
