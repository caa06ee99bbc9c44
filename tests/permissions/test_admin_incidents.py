"""Incidents in the Django admin. An incident names a case (its reference), the element it
failed at and the error: where the case's path went. Outside the admin only the process admin
who works no cases reads them (``rules.can_view_incidents``, ``GET /api/v1/incidents/``);
until 2026-12-06 Django's ``workflows.view_incident`` alone showed every agency's incidents to
any staff user holding it, a caseworker of one agency included. Now the admin shows them to
whoever sees them outside it, and to superusers; everyone else is answered 403 on the list,
the page, its history and its deletion."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from permissions.models import AccessLog, Consent, Membership, Role
from retention.models import ArchiveExport, Correction, ErasureRecord, ErasureTrigger
from workflows.models import Incident, Job, JobKind, OutboxMessage, ProcessInstance, ReceivedMessage

pytestmark = pytest.mark.django_db

ELEMENT = "Task_ventet_på_bolig"


@pytest.fixture
def incident(prison_case):
    instance = ProcessInstance.objects.get(case=prison_case)
    return Incident.objects.create(
        instance=instance, case=prison_case, kind="expression-error", element_id=ELEMENT, error="boom"
    )


# Every admin of rows that name a case and where its path went: the incident, the job owed
# for it, and the messages it sent and received (which agency wrote to the case).
CASE_ROW_MODELS = ["incident", "job", "outboxmessage", "receivedmessage"]


@pytest.fixture
def case_rows(prison_case, incident, agencies):
    instance = ProcessInstance.objects.get(case=prison_case)
    return {
        "incident": incident,
        "job": Job.objects.create(
            kind=JobKind.TIMER, instance=instance, case=prison_case, payload={}, due_at=timezone.now()
        ),
        "outboxmessage": OutboxMessage.objects.create(
            name="housing_ready", payload={}, correlations={}, instance=instance, case=prison_case
        ),
        "receivedmessage": ReceivedMessage.objects.create(
            message_id="m-1", name="release_date_changed", case=prison_case, sender_agency=agencies["prison"]
        ),
    }


def _staff_client(user):
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="workflows",
            codename__in=[f"{action}_{model}" for model in CASE_ROW_MODELS for action in ("view", "change", "delete")],
        )
    )
    client = Client()
    client.force_login(user)
    return client


def _pages(row, model="incident"):
    return (
        reverse(f"admin:workflows_{model}_changelist"),
        reverse(f"admin:workflows_{model}_change", args=[row.pk]),
        reverse(f"admin:workflows_{model}_history", args=[row.pk]),
        reverse(f"admin:workflows_{model}_delete", args=[row.pk]),
    )


@pytest.mark.parametrize(
    "name, extra_role",
    [
        ("kari", None),  # a caseworker of the prison, whose case it is
        ("nils", None),  # a caseworker of NAV
        ("aud", None),  # an auditor
        ("ada", ("prison", Role.MEMBER)),  # a process admin who also works cases
    ],
)
def test_a_staff_user_who_reads_no_incidents_elsewhere_reads_none_in_the_admin(
    users, agencies, incident, name, extra_role
):
    user = users[name]
    if extra_role:
        Membership.objects.create(user=user, agency=agencies[extra_role[0]], role=extra_role[1])
    client = _staff_client(user)
    for url in _pages(incident):
        answer = client.get(url)
        assert answer.status_code == 403, url
        assert ELEMENT not in answer.content.decode()
    assert client.post(_pages(incident)[3], {"post": "yes"}).status_code == 403
    assert Incident.objects.filter(pk=incident.pk).exists()


def test_the_process_admin_who_works_no_cases_reads_in_the_admin_what_the_api_lists(users, incident):
    client = _staff_client(users["ada"])
    listed = client.get(reverse("admin:workflows_incident_changelist"))
    assert listed.status_code == 200 and ELEMENT in listed.content.decode()
    api = client.get(reverse("api-incidents"))
    assert api.status_code == 200
    shown = client.get(reverse("admin:workflows_incident_change", args=[incident.pk]))
    assert shown.status_code == 200 and ELEMENT in shown.content.decode()


def test_a_superuser_still_reads_every_incident(django_user_model, incident):
    client = Client()
    client.force_login(django_user_model.objects.create_superuser("root-admin", "root@example.org", "pw-1234567"))
    for url in _pages(incident)[:3]:
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("model", CASE_ROW_MODELS)
def test_a_caseworker_with_staff_permissions_reads_no_case_s_jobs_or_messages_in_the_admin(
    users, case_rows, prison_case, model
):
    """A job, an outbox message and a received message name the case (its reference) and what
    happened to it: a NAV caseworker given Django's view permission read which cases the
    prison wrote to, and when (until 2026-12-06 only incidents were gated)."""
    client = _staff_client(users["nils"])
    row = case_rows[model]
    for url in _pages(row, model):
        answer = client.get(url)
        assert answer.status_code == 403, url
        assert prison_case.reference not in answer.content.decode()
    assert client.post(_pages(row, model)[3], {"post": "yes"}).status_code == 403
    assert type(row).objects.filter(pk=row.pk).exists()


@pytest.mark.parametrize("model", CASE_ROW_MODELS)
def test_the_operators_still_read_the_case_s_jobs_and_messages(users, django_user_model, case_rows, model):
    superuser = Client()
    superuser.force_login(django_user_model.objects.create_superuser("root-admin", "root@example.org", "pw-1234567"))
    for client in (_staff_client(users["ada"]), superuser):
        for url in _pages(case_rows[model], model)[:3]:
            assert client.get(url).status_code == 200, url


# Who read, shared or corrected which category of which case, and which case was erased (on
# whose request, and whether it was the person's last) or sent to the archive with which
# categories: the superusers' alone in the admin (the auditors read the access log and the
# retention records on their own pages, scoped to their agency).
SUPERUSER_ROWS = {
    "permissions": ["consent", "accesslog"],
    "retention": ["correction", "erasurerecord", "archiveexport"],
}


@pytest.fixture
def sharing_rows(prison_case, agencies, users, consent_basis):
    return {
        "consent": Consent.objects.create(
            person=prison_case.person,
            case=prison_case,
            agency=agencies["nav"],
            categories=["health"],
            legal_basis=consent_basis,
        ),
        "accesslog": AccessLog.objects.create(
            user=users["helga"], username="helga", case=prison_case, category="health", action="read"
        ),
        "correction": Correction.objects.create(
            case=prison_case,
            field="move_date",
            category="housing",
            reason="feil dato",
            corrected_by=users["kari"],
            agency=agencies["housing"],
            corrected_at=timezone.now(),
        ),
        "erasurerecord": ErasureRecord.objects.create(
            case=prison_case,
            trigger=ErasureTrigger.REQUEST,
            erased_at=timezone.now(),
            rule="default",
            rule_category="health",
            keep_years=10,
            legal_basis="personopplysningsloven",
            access_log_until=timezone.now(),
            person_erased=True,
        ),
        "archiveexport": ArchiveExport.objects.create(
            case=prison_case, requested_at=timezone.now(), body_categories="identity,health"
        ),
    }


@pytest.mark.parametrize("app, model", [(app, model) for app, models in SUPERUSER_ROWS.items() for model in models])
def test_who_read_shared_or_corrected_a_case_is_no_staff_user_s_to_read_in_the_admin(
    users, django_user_model, sharing_rows, prison_case, app, model
):
    """Until 2026-12-06 Django's view permission alone showed any staff user every agency's
    consents, access-log rows, corrections, erasures and archive exports: which agency read or
    was given whose health data, in which case; which case was erased on the person's request
    and was their last; which case went to the archive with health data. The process admin who
    reads incidents does not read these either."""
    row = sharing_rows[model]
    for name in ("nils", "ada"):
        user = users[name]
        user.is_staff = True
        user.save(update_fields=["is_staff"])
        user.user_permissions.add(*Permission.objects.filter(content_type__app_label=app, codename=f"view_{model}"))
        client = Client()
        client.force_login(user)
        for url in (
            reverse(f"admin:{app}_{model}_changelist"),
            reverse(f"admin:{app}_{model}_change", args=[row.pk]),
            reverse(f"admin:{app}_{model}_history", args=[row.pk]),
        ):
            answer = client.get(url)
            assert answer.status_code == 403, (name, url)
            assert prison_case.reference not in answer.content.decode()
    superuser = Client()
    superuser.force_login(django_user_model.objects.create_superuser("root-admin", "root@example.org", "pw-1234567"))
    assert superuser.get(reverse(f"admin:{app}_{model}_change", args=[row.pk])).status_code == 200
