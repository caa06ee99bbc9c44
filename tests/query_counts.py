"""Query counts that must not grow with the rows (issue 12, point 4: no N+1).

``Growth`` fills the database a step at a time the way agencies do: each step starts
prison-release and discharge cases (their intake completed, so tasks wait in NAV's,
health's and housing's inboxes), and adds to one case, the *subject*, what its lists show:
notes, attachments, consents, break-glass openings, access-log rows (from reads),
incidents, tasks done (a step done again, as a loop in a model does) and timeline events
naming a task (a claim and its release). A route is read
after the first step and again after two more (three times the rows); its query count must
be the same. A count that grows with the rows is an N+1: a query per row shown.
"""

from __future__ import annotations

import datetime
import uuid

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from permissions import policy
from permissions.models import ALL_CATEGORIES, AccessLog, BreakGlass
from retention import services as retention_services
from retention.models import ArchiveExport, RetentionRule
from tests.workflows.helpers import complete, open_tasks, start_prison_case
from workflows import keyset, selectors, services
from workflows.models import Event, EventKind, Incident, ProcessInstance, Task, TaskStatus

PRISON = ("prison", "nav", "health", "housing")
DISCHARGE = ("hospital", "health", "nav", "housing")
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
NATIONAL_IDS = ("17912099997", "29822099635", "05840399895")


class Growth:
    def __init__(self, users, agencies, legal_basis):
        self.users, self.agencies, self.legal_basis, self.cases = users, agencies, legal_basis, []
        self.subject = self._start("kari", "prison_release_to_housing", PRISON)
        self.open_task = open_tasks(self.subject)[0]
        complete(self.open_task, {"has_home": False}, actor=users["kari"])
        self.open_task = next(task for task in open_tasks(self.subject) if task.agency.kind == "nav")

    def _start(self, username, process_key, kinds):
        number = len(self.cases)
        case = services.start_case(
            actor=self.users[username],
            process_key=process_key,
            person={"name": f"Person {number}", "national_id": NATIONAL_IDS[number % len(NATIONAL_IDS)]},
            participants={kind: self.agencies[kind].pk for kind in kinds},
        )
        self.cases.append(case)
        return case

    @property
    def report_cursor(self) -> str:
        """A cursor of the subject's access report page (``web.paging.cursor_page_of``) past a
        line of a day to come: its page is the newest lines, read as an older page is."""
        lines = selectors.access_groups(AccessLog.objects.all())
        keys = keyset.ordering_keys(lines, unique="last_id")
        path = reverse("person-access-report", args=[self.subject.pk])
        signer = keyset.CursorSigner(lines, keys, f"{keyset.SALT}:{path}", "last_id")
        return signer.dumps(keyset.Cursor(False, [timezone.localdate() + datetime.timedelta(days=1), 10**12]))

    def step(self, cases: int = 2) -> None:
        users = self.users
        for _ in range(cases):
            prison = self._start("kari", "prison_release_to_housing", PRISON)
            complete(open_tasks(prison)[0], {"has_home": False}, actor=users["kari"])
            retention_services.correct_value(  # a national id waits in the auditor's list
                actor=users["bjorn"],
                case_id=prison.pk,
                field="person.national_id",
                value=NATIONAL_IDS[len(self.cases) % len(NATIONAL_IDS)],
                reason="Feil nummer",
            )
            self._start("siri", "institution_discharge_to_housing", DISCHARGE)
        subject = self.subject
        for number in range(cases):
            services.add_note(actor=users["nils"], case=subject, text=f"Notat {number}")
            services.add_attachment(
                actor=users["nils"],
                case=subject,
                upload=SimpleUploadedFile(f"vedlegg{number}.png", PNG, content_type="image/png"),
            )
            services.record_consent(
                actor=users["bjorn"],
                case=subject,
                agency=self.agencies["nav"],
                categories=["housing"],
                purpose="Bolig",
                legal_basis=self.legal_basis,
            )
            policy.case_data_for(users["nils"], subject, policy.NO_FIELDS)  # access-log rows
            opened = timezone.now()
            BreakGlass.objects.create(  # the coordinator's list and the auditor's review list
                case=subject,
                person_id=subject.person_id,
                user=users["kari"],
                agency=self.agencies["prison"],
                category="economy",
                reason="Fare for liv: trenger opplysninger om økonomi nå",
                opened_at=opened,
                expires_at=opened + datetime.timedelta(hours=1),
            )
            BreakGlass.objects.create(  # reviewed, still in force: the review page's second list
                case=subject,
                person_id=subject.person_id,
                user=users["kari"],
                agency=self.agencies["prison"],
                category="health",
                reason="Fare for liv: trenger opplysninger om helse nå",
                opened_at=opened,
                expires_at=opened + datetime.timedelta(hours=1),
                reviewed_at=opened,
                reviewed_by=users["aud"],
            )
            # the retention page's and the auditor's lists: a correction, an archive export
            retention_services.correct_value(
                actor=users["bjorn"],
                case_id=subject.pk,
                field="person.name",
                value=f"Person 0 ({len(self.cases)}-{number})",
                reason="Stavefeil",
            )
            retention_services.correct_value(  # shown by the field's title in its form; the prison recorded it
                actor=users["kari"], case_id=subject.pk, field="has_home", value=number % 2 == 0, reason="Feil"
            )
            ArchiveExport.objects.create(case=subject, requested_by=users["bjorn"], requested_at=opened)
            rule = retention_services.save_retention_rule(  # the rules' list and the trail of their changes
                actor=users["ada"],
                values={
                    "category": ALL_CATEGORIES[RetentionRule.objects.exclude(category="").count()],
                    "keep_years": 6,
                    "access_log_years": 5,
                    "legal_basis": "Arkivplan",
                },
            )
            retention_services.save_retention_rule(actor=users["ada"], values={"keep_years": 7}, rule_id=rule.pk)
            self.retention_rule = getattr(self, "retention_rule", None) or rule
            instance = ProcessInstance.objects.filter(case=subject).first()
            Incident.objects.create(instance=instance, case=subject, kind="test", element_id="Task_x", error="boom")
            services.claim_task(actor=users["nils"], task_id=self.open_task.pk)  # events naming the task
            services.unclaim_task(actor=users["nils"], task_id=self.open_task.pk)
            self._task_done_again(subject)

    def _task_done_again(self, case) -> None:
        """Another round of the case's first task, done, with its timeline event (a model's
        loop makes such rows; no shipped process loops, so they are written here)."""
        first = Task.objects.filter(case=case, status=TaskStatus.COMPLETED).order_by("id").first()
        where = {"case": case, "instance_id": first.instance_id, "element_id": first.element_id}
        again = Task.objects.create(
            **where,
            spiff_task_id=uuid.uuid4(),
            name=first.name,
            lane=first.lane,
            agency_id=first.agency_id,
            status=TaskStatus.COMPLETED,
            form=first.form,
            completed_at=timezone.now(),
            completed_by=first.completed_by,
        )
        Event.objects.create(
            **where, task=again, kind=EventKind.TASK_COMPLETED, actor=first.completed_by, agency_id=first.agency_id
        )


def count_queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code, response.content[:300])
    return len(context.captured_queries)


def assert_counts_do_not_grow(growth: Growth, client_for, routes) -> None:
    """``routes``: (username, path); the path may name ``{g.subject.pk}`` (the growth's
    subject case), ``{g.open_task.pk}``, ``{note.pk}``, ``{attachment.pk}`` and
    ``{instance.definition_id}`` (the subject's)."""

    def counts():
        subject = growth.subject
        names = {
            "g": growth,
            "note": subject.notes.first(),
            "attachment": subject.attachments.first(),
            "instance": subject.instances.first(),
        }
        return {(user, path): count_queries(client_for(user), path.format(**names)) for user, path in routes}

    growth.step()
    small = counts()
    growth.step()
    growth.step()
    large = counts()
    grown = {route: (small[route], large[route]) for route in small if large[route] > small[route]}
    assert not grown, f"query counts grew with the rows (at N, at 3N): {grown}"


def python_calls_per_row(users, agencies, read) -> float:
    """The Python function calls one more row of a list costs: ``read()`` (the list read
    once, returning how many rows it showed) profiled with 2 and then 12 prison cases'
    intake tasks waiting, each after a warm-up read (statements compiled, caches warm)."""
    import cProfile
    import pstats

    def calls_and_rows() -> tuple[int, int]:
        read()
        profile = cProfile.Profile()
        profile.enable()
        rows = read()
        profile.disable()
        return pstats.Stats(profile).total_calls, rows

    for _ in range(2):
        start_prison_case(users, agencies)
    few, few_rows = calls_and_rows()
    for _ in range(10):
        start_prison_case(users, agencies)
    many, many_rows = calls_and_rows()
    assert (few_rows, many_rows) == (2, 12)
    return (many - few) / (many_rows - few_rows)
