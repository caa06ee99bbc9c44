"""A webhook or connector call is signed with a secret, never with an empty key (anybody can
compute an HMAC with an empty key, so a receiver could not tell our calls from forgeries).

The admin refuses a webhook address without a secret (and any secret shorter than
``MIN_SIGNING_SECRET_CHARS``), naming the field in bokmål; a row saved before that (or past
the form) sends nothing: its job fails at once with an incident naming the agency, and the
retry sends it, signed, once the agency has a secret."""

import hashlib
import hmac

import pytest
from django.contrib.auth import get_user_model
from django.utils import translation

from bpmn.services import deploy_definition
from permissions.models import MIN_SIGNING_SECRET_CHARS, Agency
from tests.workflows.helpers import PERSON, start_prison_case
from tests.workflows.jobs.test_notifications import Receiver
from tests.workflows.jobs.test_service_tasks import Registry, waiting_case
from tests.workflows.service_models import FORMS, connector_model
from workflows import services
from workflows.jobs import notify
from workflows.jobs.worker import Worker
from workflows.models import Incident, Job, JobKind, JobStatus, ServiceConnector

pytestmark = pytest.mark.django_db

STRONG = "k" * MIN_SIGNING_SECRET_CHARS
NO_SECRET = "En webhook må ha en hemmelighet: mottakeren bruker den til å kontrollere signaturen på hvert kall."
TOO_SHORT = f"Hemmeligheten må være minst {MIN_SIGNING_SECRET_CHARS} tegn lang."


@pytest.fixture
def staff_client(client):
    root = get_user_model().objects.create_superuser("root-admin", "r@example.org", "pw-1234567")
    client.force_login(root)
    return client


def agency_form(agency, **changes) -> dict:
    """The admin's change form of ``agency`` as the browser posts it (no memberships)."""
    data = {
        "name": agency.name,
        "kind": agency.kind,
        "municipality": agency.municipality,
        "notification_email": agency.notification_email,
        "webhook_url": agency.webhook_url,
        "webhook_secret": agency.webhook_secret,
        "group": agency.group_id,
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    return {**data, **changes}


def field_errors(response, field: str) -> list[str]:
    form = response.context["adminform"].form
    return [str(error) for error in form.errors.get(field, [])]


def test_the_admin_refuses_a_webhook_without_a_secret_naming_the_field_in_bokmal(staff_client, agencies):
    nav = agencies["nav"]
    url = f"/admin/permissions/agency/{nav.pk}/change/"
    with translation.override("nb"):
        for secret, error in (("", NO_SECRET), ("   ", NO_SECRET), ("s3cret", TOO_SHORT)):
            answer = staff_client.post(
                url, agency_form(nav, webhook_url="https://nav.example.org/hook", webhook_secret=secret)
            )
            assert answer.status_code == 200  # the form again, with the error on the field
            assert field_errors(answer, "webhook_secret") == [error]
            assert "s3cret" not in "".join(field_errors(answer, "webhook_secret"))
    nav.refresh_from_db()
    assert (nav.webhook_url, nav.webhook_secret) == ("", "")

    saved = staff_client.post(url, agency_form(nav, webhook_url="https://nav.example.org/hook", webhook_secret=STRONG))
    assert saved.status_code == 302
    nav.refresh_from_db()
    assert (nav.webhook_url, nav.webhook_secret) == ("https://nav.example.org/hook", STRONG)
    # The form never shows the stored secret: left blank, the secret stays as it is.
    assert STRONG not in staff_client.get(url).content.decode()
    kept = staff_client.post(url, agency_form(nav, webhook_secret=""))
    assert kept.status_code == 302
    nav.refresh_from_db()
    assert nav.webhook_secret == STRONG
    # Without a webhook address no secret is needed.
    assert staff_client.post(url, agency_form(nav, webhook_url="", webhook_secret="")).status_code == 302


def test_the_admin_refuses_a_short_connector_secret(staff_client, agencies):
    form = {"name": "income-register", "url": "https://register.example.org/", "agency": agencies["nav"].pk}
    with translation.override("nb"):
        short = staff_client.post("/admin/workflows/serviceconnector/add/", {**form, "secret": "s", "active": "on"})
    assert short.status_code == 200 and field_errors(short, "secret") == [TOO_SHORT]
    assert not ServiceConnector.objects.exists()
    with translation.override("nb"):
        blank = staff_client.post("/admin/workflows/serviceconnector/add/", {**form, "secret": "", "active": "on"})
    assert blank.status_code == 200 and field_errors(blank, "secret") == ["Dette feltet er påkrevd."]
    strong = staff_client.post("/admin/workflows/serviceconnector/add/", {**form, "secret": STRONG, "active": "on"})
    connector = ServiceConnector.objects.get()
    assert strong.status_code == 302 and connector.secret == STRONG


def test_the_admin_never_shows_a_stored_secret(staff_client, agencies):
    """Whoever may view agencies or connectors in the admin (a view permission is enough) read
    the secret that signs their calls, and could sign calls to the agency's system as us: the
    forms take a new secret and never render the stored one; left blank, it stays."""
    nav = agencies["nav"]
    Agency.objects.filter(pk=nav.pk).update(webhook_url="https://nav.example.org/hook", webhook_secret=STRONG)
    connector = ServiceConnector.objects.create(
        name="income-register", url="https://register.example.org/", agency=nav, secret=STRONG + "c"
    )
    pages = (f"/admin/permissions/agency/{nav.pk}/change/", f"/admin/workflows/serviceconnector/{connector.pk}/change/")
    for url in pages:
        page = staff_client.get(url)
        assert page.status_code == 200 and STRONG not in page.content.decode()
    form = {"name": connector.name, "url": connector.url, "agency": nav.pk, "secret": "", "active": "on"}
    assert staff_client.post(f"/admin/workflows/serviceconnector/{connector.pk}/change/", form).status_code == 302
    connector.refresh_from_db()
    assert connector.secret == STRONG + "c"
    new = "n" * MIN_SIGNING_SECRET_CHARS
    changed = staff_client.post(f"/admin/workflows/serviceconnector/{connector.pk}/change/", {**form, "secret": new})
    assert changed.status_code == 302
    connector.refresh_from_db()
    assert connector.secret == new


def test_nothing_is_ever_signed_with_an_empty_key():
    with pytest.raises(ValueError):
        notify.sign("", b"{}")
    with pytest.raises(ValueError):
        notify.sign("  ", b"{}")


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    receiver = Receiver(failures=0)
    yield receiver
    receiver.server.shutdown()


def test_a_stored_webhook_without_a_secret_sends_nothing_and_fails_at_once_naming_the_agency(
    shipped, users, agencies, receiver
):
    prison = agencies["prison"]
    # As a row saved before a secret was required: past the form, no validation.
    Agency.objects.filter(pk=prison.pk).update(webhook_url=receiver.url, webhook_secret="")
    case = start_prison_case(users, agencies)
    hook = Job.objects.get(case=case, kind=JobKind.WEBHOOK, payload__event="task_created")

    Worker(name="w").run(once=True)

    assert receiver.calls == []
    hook.refresh_from_db()
    assert (hook.status, hook.attempts) == (JobStatus.FAILED, 1)  # no back-off: no retry would change it
    incident = Incident.objects.get(job=hook)
    assert incident.kind == "webhook-failed"
    assert prison.name in incident.error and "no secret" in incident.error
    assert incident.error_message["code"] == "job.webhook.no_secret"
    assert PERSON["name"] not in incident.error and case.reference not in incident.error

    # The operator sets a secret (and gives it to the receiver): the retry sends it, signed.
    Agency.objects.filter(pk=prison.pk).update(webhook_secret=STRONG)
    services.retry_incident(actor=users["ada"], incident_id=incident.pk)
    hook.refresh_from_db()
    assert hook.status == JobStatus.DONE
    (_, accepted, headers, body) = receiver.calls[0]
    assert accepted
    assert headers["X-Brobygger-Signature"] == "sha256=" + hmac.new(STRONG.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Brobygger-Signature"] != "sha256=" + hmac.new(b"", body, hashlib.sha256).hexdigest()


@pytest.fixture
def income_register(settings, agencies):
    """The connector model deployed and its register listening, with a connector whose
    secret is then emptied past the form (as a row written before the check)."""
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    deploy_definition(actor=None, bpmn_xml=connector_model(), forms=FORMS, check_permission=False)
    registry = Registry([(200, {"income": 1})])
    ServiceConnector.objects.create(name="income-register", url=registry.url, secret=STRONG, agency=agencies["nav"])
    ServiceConnector.objects.update(secret="")
    yield registry
    registry.server.shutdown()


def test_a_stored_connector_without_a_secret_sends_nothing(income_register, users, agencies):
    case = waiting_case(users, agencies)

    Worker(name="w").run(once=True)

    assert income_register.calls == []
    job = Job.objects.get(case=case, kind=JobKind.SERVICE)
    assert (job.status, job.attempts) == (JobStatus.FAILED, 1)
    incident = Incident.objects.get(job=job)
    assert incident.error_message["code"] == "job.service.no_secret" and "income-register" in incident.error
