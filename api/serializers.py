"""Explicit input and output serializers. Input serializers refuse unknown fields;
output serializers only shape what a selector or policy already decided to show."""

from __future__ import annotations

import datetime
import re

from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.settings import api_settings

from api.exceptions import answer_text, answers_in_english, coded
from api.field_errors import recode
from bpmn.registry import runtime_for
from core import public_ids
from core.national_id import shown_masked
from insight.privacy import SMALL
from permissions import rules
from permissions.models import CATEGORIES, AgencyKind
from workflows import selectors
from workflows.models import ProcessInstance
from workflows.services import consents, external_tasks, versions

OPAQUE_ID = (
    "opaque: a number that names this {kind} and nothing else. Not in order, not counting; "
    "compare it only for equality and never compute with it."
)


class DictField(serializers.DictField):
    """DRF's ``DictField``, an object of any values: without a ``child``, each value is taken
    as it is (DRF's ``_UnvalidatedField`` returns it unchanged both ways, ``None`` too), so
    the keys are made text and the values kept without a field call for each (a completion's
    form data in, an opened task's category values out). With a ``child``, DRF's own."""

    def _values_as_they_are(self) -> bool:
        child = self.child
        return type(child) is _UNVALIDATED and not child.validators

    def run_child_validation(self, data):
        if self._values_as_they_are():
            return {str(key): value for key, value in data.items()}
        return super().run_child_validation(data)

    def to_representation(self, value):
        if self._values_as_they_are():
            return {str(key): item for key, item in value.items()}
        return super().to_representation(value)


_UNVALIDATED = type(serializers.DictField.child)


@extend_schema_field(
    {"type": "integer", "format": "int64", "minimum": 0, "maximum": public_ids.LIMIT - 1, "x-opaque": True}
)
class PublicIdField(serializers.IntegerField):
    """A public id (``core.public_ids``: a task's, an event's, an access-log row's) in place of its key."""

    def __init__(self, kind: str, **kwargs):
        self.kind = kind
        kwargs.setdefault("help_text", OPAQUE_ID.format(kind=kind))
        super().__init__(**kwargs)

    def to_representation(self, value):
        return public_ids.encode(self.kind, int(value))


class PublicItemField(serializers.CharField):
    """An access-log row's ``item``, its object named by public id (``core.public_ids.public_item``)."""

    def to_representation(self, value):
        return public_ids.public_item(str(value))


# --- input -----------------------------------------------------------------------------


class StrictInputMixin:
    """Refuse fields the serializer does not declare (400 naming each of them)."""

    def to_internal_value(self, data):
        unknown = {}
        if isinstance(data, dict) and (names := sorted(set(data) - set(self.fields))):
            allowed = ", ".join(self.fields)
            refusal = coded("field.unknown_allowed", allowed=allowed) if allowed else coded("field.unknown_none")
            unknown = {name: [refusal] for name in names}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if unknown and isinstance(exc.detail, dict):
                raise serializers.ValidationError({**unknown, **exc.detail}) from exc
            raise
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


class InputSerializer(StrictInputMixin, serializers.Serializer):
    """An input: unknown fields refused, and DRF's own errors of its fields said in our codes
    and words (``api.field_errors``; only on the way out of a refusal, so a valid input costs
    nothing more)."""

    def run_validation(self, data=serializers.empty):
        try:
            return super().run_validation(data)
        except serializers.ValidationError as exc:
            detail = recode(exc.detail, self, None if answers_in_english() else gettext)
            if isinstance(detail, list):  # the object itself (null): ``errors`` must be a dict
                detail = {api_settings.NON_FIELD_ERRORS_KEY: detail}
            raise serializers.ValidationError(detail) from exc

    def create(self, validated_data):  # pragma: no cover - input serializers never save
        raise NotImplementedError

    def update(self, instance, validated_data):  # pragma: no cover
        raise NotImplementedError


class TokenInput(InputSerializer):
    """{username, password[, otp]} -> a new API token."""

    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})
    otp = serializers.RegexField(
        r"^[0-9]{6,8}$",
        required=False,
        allow_blank=True,
        help_text="the authenticator app's code, when the user must give a second factor",
    )


class PersonInput(InputSerializer):
    name = serializers.CharField(max_length=200)
    national_id = serializers.CharField(max_length=32, help_text="11-digit Norwegian national id (fnr/D-number)")


class CaseInput(InputSerializer):
    process_key = serializers.CharField(max_length=200)
    person = PersonInput()
    participants = DictField(
        child=serializers.IntegerField(min_value=1),
        help_text="agency kind -> agency id, one per lane kind of the process",
    )
    data = DictField(required=False, help_text="initial values of form fields of the process")
    correlation_key = serializers.CharField(
        max_length=ProcessInstance._meta.get_field("correlation_key").max_length,
        required=False,
        allow_blank=True,
        default="",
        help_text="your system's own number for the case (e.g. the prison's case number): messages may name it "
        "instead of the reference, when sent through the agency you start the case through (the key is that "
        "agency's). No other running case you see may have it as that agency's key (400 naming "
        "`correlation_key`); another agency's case may, and neither blocks nor takes the other's messages.",
    )
    responsible = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text="the user id of the housing contact responsible for the case (only someone of the case's "
        "housing agency chooses; default: the starter when a housing contact there, else its coordinator)",
    )


class ResponsibleInput(InputSerializer):
    responsible = serializers.IntegerField(min_value=1, help_text="the user id of a contact of the housing agency")


class WithdrawalInput(InputSerializer):
    agency = serializers.IntegerField(min_value=1, help_text="the id of an agency that takes part in the case")
    reason = serializers.CharField(
        max_length=4000, help_text="why the agency no longer works the case (shown in the timeline)"
    )


class CalledFileInput(InputSerializer):
    filename = serializers.CharField(max_length=200)
    bpmn_xml = serializers.CharField(trim_whitespace=False)


class DeployInput(InputSerializer):
    bpmn_xml = serializers.CharField(trim_whitespace=False, help_text="the BPMN 2.0 XML document")
    forms = DictField(
        child=DictField(),
        required=False,
        default=dict,
        help_text="form file name -> JSON schema",
    )
    lanes = DictField(
        child=serializers.ChoiceField(choices=AgencyKind.choices),
        required=False,
        allow_null=True,
        help_text="lane name -> agency kind, for lanes whose name is not a known alias",
    )
    routing = DictField(
        required=False,
        allow_null=True,
        help_text=(
            'the routing map: {"lanes": {lane name: kind}, "pools": {pool name: kind}, '
            '"groups": {candidate group: kind}, "assignees": {assignee: kind}, "default": kind}; '
            "a task goes by its lane, candidate groups, assignee, pool, then the default"
        ),
    )
    called = CalledFileInput(
        many=True,
        required=False,
        help_text="other files whose processes the model's call activities call, deployed with it",
    )


class IncidentDataInput(InputSerializer):
    data = DictField(help_text="field -> value, merged into the data of the failed task")


class TaskReassignInput(InputSerializer):
    assignee = serializers.IntegerField(
        required=False, min_value=1, help_text="the colleague's user id (the agency's lead); leave out to take it over"
    )


class CompleteInput(InputSerializer):
    data = DictField(required=False, default=dict, help_text="the values of the task's form fields")


_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
EXPIRY_HELP = (
    "when it expires: a date-time as given (with its offset), or a date only (2027-01-10), which "
    "means the end of that day in Europe/Oslo, as on the consent form; from now (today, for a "
    "date) to 2199-12-31 (Oslo time) at the latest"
)


@extend_schema_field({"oneOf": [{"type": "string", "format": "date-time"}, {"type": "string", "format": "date"}]})
class ExpiryField(serializers.DateTimeField):
    """A consent's expiry: a date-time as given; a date only is the day the consent lasts
    through, as the consent form's date input gives it (``consents.end_of_day``: the service
    makes it the end of that Oslo day), not its midnight (which DRF would read). One after the
    year 9999 (which no date reads) is too late, as the service says of one after its last
    day (``consents.LAST_EXPIRY_DAY``)."""

    def to_internal_value(self, value):
        if isinstance(value, str) and consents.after_year_9999(value):
            raise serializers.ValidationError(
                coded("field.date_too_late", maximum=consents.LAST_EXPIRY_DAY.isoformat()), code="field.date_too_late"
            )
        if isinstance(value, str) and _DATE_ONLY.fullmatch(value.strip()):
            try:
                return datetime.date.fromisoformat(value.strip())
            except ValueError:
                pass  # no such day (2027-02-30): refused as any unreadable date-time
        return super().to_internal_value(value)


class ConsentInput(InputSerializer):
    agency = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, help_text="the receiving agency (or give agency_kind)"
    )
    agency_kind = serializers.ChoiceField(
        choices=AgencyKind.choices, required=False, allow_blank=True, help_text="every agency of this kind in the case"
    )
    categories = serializers.ListField(child=serializers.ChoiceField(choices=CATEGORIES), min_length=1)
    purpose = serializers.CharField(max_length=2000)
    legal_basis = serializers.IntegerField(
        min_value=1, help_text="the id of the provision it rests on (GET /api/v1/legal-bases/): consent or law"
    )
    expires_at = ExpiryField(required=False, allow_null=True, help_text=EXPIRY_HELP)
    note = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")


class BreakGlassInput(InputSerializer):
    category = serializers.ChoiceField(choices=CATEGORIES, help_text="a category of the case masked for you")
    reason = serializers.CharField(
        max_length=4000, help_text="the danger to life or health this averts (at least 20 characters)"
    )


class BreakGlassReviewInput(InputSerializer):
    note = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")


# --- output ----------------------------------------------------------------------------


class ErrorItemSerializer(serializers.Serializer):
    field = serializers.CharField(required=False, help_text="the input field, dotted for nested fields")
    element_id = serializers.CharField(required=False, help_text="the BPMN element the problem is in")
    message = serializers.CharField(
        help_text="for people: in bokmål with Accept-Language: nb, else English; never a value sent"
    )
    code = serializers.CharField(
        help_text="what is wrong, stable for a client to branch on: field.required, field.too_long, "
        "field.invalid_choice, ... (README, REST API v1)"
    )
    line = serializers.IntegerField(required=False)
    file = serializers.CharField(required=False)


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = ErrorItemSerializer(many=True)
    code = serializers.CharField(
        required=False, help_text="what went wrong, stable for a client to branch on (the detail is for people)"
    )
    request_id = serializers.CharField(
        required=False, help_text="also in the X-Request-ID header; names the request in the server's logs"
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="send as `Authorization: Token <token>`; shown once")
    expiry = serializers.DateTimeField(help_text="the token stops working then (API_TOKEN_HOURS after issue)")


class AgencySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()


class ProcessDefinitionSerializer(serializers.Serializer):
    key = serializers.CharField()
    version = serializers.IntegerField()
    name = serializers.CharField()
    checksum = serializers.CharField()
    deployed_at = serializers.DateTimeField()
    lanes = serializers.SerializerMethodField(help_text="lane name -> agency kind")
    routing = serializers.SerializerMethodField(help_text="the routing map given at import")
    user_tasks = serializers.SerializerMethodField(help_text="element id -> name, lane, agency kind, form")

    def get_lanes(self, definition) -> dict[str, str]:
        return (definition.metadata or {}).get("lanes", {})

    def _sees_users(self) -> bool:
        request = self.context.get("request")
        return request is not None and rules.can_see_routing_users(request.user)

    def get_routing(self, definition) -> dict:
        routing = definition.routing
        if self._sees_users():
            return routing
        return {part: entries for part, entries in routing.items() if part != "users"}

    def get_user_tasks(self, definition) -> dict[str, dict]:
        tasks = (definition.metadata or {}).get("user_tasks", {})
        if self._sees_users():
            return tasks
        return {
            element_id: {key: value for key, value in task.items() if key != "assignee_user"}
            for element_id, task in tasks.items()
        }


class ProcessDefinitionDetailSerializer(ProcessDefinitionSerializer):
    bpmn_xml = serializers.CharField()
    forms = serializers.DictField(child=DictField(), help_text="form file name -> JSON schema")
    fields = serializers.SerializerMethodField(method_name="field_categories", help_text="form field -> data category")
    messages = serializers.SerializerMethodField()

    def field_categories(self, definition) -> dict[str, str]:
        # As the engine decides them (``runtime_for``): a version deployed before the deploy
        # refused a category inside a field shows that field as restricted, not as its top says.
        return runtime_for(definition).fields

    def get_messages(self, definition) -> list[str]:
        return list((definition.metadata or {}).get("messages", []))


class CaseRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()


class TaskSerializer(serializers.Serializer):
    id = PublicIdField("task")
    name = serializers.CharField()
    element_id = serializers.CharField()
    lane = serializers.CharField()
    status = serializers.CharField()
    agency = AgencySerializer()
    case = CaseRefSerializer()
    assignee = serializers.SerializerMethodField()
    form = serializers.CharField()
    due_at = serializers.DateTimeField(allow_null=True)
    overdue = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    claimed_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)

    def get_assignee(self, task) -> str | None:
        return task.assignee.get_username() if task.assignee_id else None

    def get_overdue(self, task) -> bool:
        return bool(task.is_active and task.due_at and task.due_at < self._page()[0])

    def _page(self) -> tuple:
        """The clock and the moments' writer, once per serializer: a list's rows share one
        (``many=True`` writes every row with one child), as the inbox page's rows share its
        clock; per row, the clock and the time zone read again were a fifth of a row's calls."""
        page = self.__dict__.get("_page_values")
        if page is None:
            from django.utils import timezone

            page = self.__dict__["_page_values"] = (timezone.now(), _moment_writer())
        return page

    def to_representation(self, task) -> dict:
        # The fields above, written out: DRF's field-by-field walk cost more than the rest of
        # a task list request's Python (50 rows, two nested serializers each). Same values,
        # same formats (``tests/api/test_task_serializer.py`` compares it with DRF's own).
        moment = self._page()[1]
        due_at, claimed_at, completed_at = task.due_at, task.claimed_at, task.completed_at
        agency, case = task.agency, task.case
        return {
            "id": public_ids.encode("task", task.pk),
            "name": task.name,
            "element_id": task.element_id,
            "lane": task.lane,
            "status": str(task.status),
            "agency": {"id": agency.pk, "name": agency.name, "kind": str(agency.kind)},
            "case": {"id": case.pk, "reference": case.reference},
            "assignee": self.get_assignee(task),
            "form": task.form,
            "due_at": moment(due_at) if due_at is not None else None,
            "overdue": self.get_overdue(task),
            "created_at": moment(task.created_at),
            "claimed_at": moment(claimed_at) if claimed_at is not None else None,
            "completed_at": moment(completed_at) if completed_at is not None else None,
        }


def _moment_writer():
    """``_MOMENT.to_representation`` with the current time zone read once: an aware moment
    in that zone as ISO 8601 (``Z`` for UTC), as DRF writes it; anything else (a naive
    moment, another output format) through DRF's own field."""
    from django.conf import settings
    from django.utils import timezone
    from rest_framework import ISO_8601

    drf = _MOMENT.to_representation
    if getattr(_MOMENT, "format", api_settings.DATETIME_FORMAT).lower() != ISO_8601 or not settings.USE_TZ:
        return drf
    zone = timezone.get_current_timezone()

    def write(value):
        if not timezone.is_aware(value):
            return drf(value)
        try:
            text = value.astimezone(zone).isoformat()
        except OverflowError:  # DRF's own answer for it
            return drf(value)
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return write


_MOMENT = serializers.DateTimeField()  # its format (the current time zone, ISO 8601), for the rows above


class CategoryViewSerializer(serializers.Serializer):
    visible = serializers.BooleanField(help_text="values of this category are shown (all, or only your own)")
    values = DictField(help_text="field -> value; empty when masked")
    reason = serializers.CharField(allow_null=True, help_text="why values are masked")
    basis = serializers.CharField(allow_null=True, help_text="on what ground values are shown")
    earlier = DictField(
        required=False,
        help_text="field -> the value your agency recorded before a later step of the process wrote over it "
        '(in the case answer only, and only when there is one; correct it with `"of": "earlier"`, '
        "`POST /api/v1/cases/{id}/corrections/`)",
    )

    lapsed = DictField(
        child=serializers.DateField(),
        required=False,
        help_text="safety only: field -> the date (Europe/Oslo) its warning lapsed on, SAFETY_WARNING_DAYS (or the "
        "form's `x-valid-days`) after it was recorded or last confirmed. Its value is in `values` only for the "
        "agency that recorded it and the case's coordinator, who confirm it again "
        '(`POST /api/v1/cases/{id}/safety-confirmations/`) or remove it (a correction with `"value": null`); '
        "the others learn only that a warning lapsed. Present only when one has",
    )
    valid_until = DictField(
        child=serializers.DateField(),
        required=False,
        help_text="safety only: field -> the last date (Europe/Oslo) the warning shown is in force",
    )

    def to_representation(self, instance):
        shown = super().to_representation(instance)
        for optional in ("earlier", "lapsed", "valid_until"):
            if not shown.get(optional):
                shown.pop(optional, None)
        return shown


class SafetyConfirmationInput(InputSerializer):
    field = serializers.CharField(max_length=200, help_text="the safety field whose warning is confirmed again")


class SafetyConfirmationSerializer(serializers.Serializer):
    field = serializers.CharField()
    valid_until = serializers.DateField(help_text="the last date (Europe/Oslo) the warning is now shown on")


class OutcomeValuesSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="the outcome kind's code (an admin keeps the list)")
    kind_label = serializers.CharField()
    has_home = serializers.BooleanField(help_text="the person has a home of their own when the case closed")
    tenure = serializers.CharField(allow_null=True, help_text="form of tenure when housed")
    tenure_label = serializers.CharField(allow_null=True)
    reason = serializers.CharField(allow_null=True, help_text="e.g. why the person was not housed")
    referral_date = serializers.DateField()
    housed_date = serializers.DateField(allow_null=True)
    closed_date = serializers.DateField(allow_null=True, help_text="set when the case completed")


class OutcomeSerializer(serializers.Serializer):
    """``case_outcomes.OutcomeView``: category housing, masked as the case's housing data is."""

    visible = serializers.BooleanField()
    values = OutcomeValuesSerializer(allow_null=True, required=False, source="values_or_none")
    reason = serializers.CharField(allow_null=True, help_text="why the outcome is masked")
    basis = serializers.CharField(allow_null=True, help_text="on what ground it is shown")


class PersonSerializer(serializers.Serializer):
    name = serializers.CharField(allow_null=True)
    national_id = serializers.CharField(allow_null=True, help_text="masked (170920*****) unless a task needs it")
    national_id_masked = serializers.BooleanField()


class ParticipantSerializer(serializers.Serializer):
    kind = serializers.CharField()
    agency = AgencySerializer()


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField(source="get_full_name")


class CaseSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    process_key = serializers.CharField()
    status = serializers.CharField()
    coordinator_agency = AgencySerializer()
    responsible = UserRefSerializer(allow_null=True, help_text="the housing contact responsible for the case")
    opened_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    open_task_count = serializers.IntegerField()
    next_timer_at = serializers.DateTimeField(
        allow_null=True, default=None, help_text="when the case's next timer (deadline) fires"
    )

    def to_representation(self, case):
        """The fields above for a row of ``selectors.cases_for``, written out: DRF's walk over
        the fields and the two nested serializers took 8 ms for a page of 50 (as much as
        building and compiling the list's query). The moments go through the declared
        field's own formatting; ``tests/api/test_case_list_rows.py`` compares with DRF's."""
        moment = self.fields["opened_at"].to_representation
        agency, responsible = case.coordinator_agency, case.responsible
        timer = getattr(case, "next_timer_at", None)
        return {
            "id": case.id,
            "reference": case.reference,
            "process_key": case.process_key,
            "status": str(case.status),
            "coordinator_agency": {"id": agency.id, "name": agency.name, "kind": str(agency.kind)},
            "responsible": None
            if responsible is None
            else {"id": responsible.id, "username": responsible.username, "name": responsible.get_full_name()},
            "opened_at": moment(case.opened_at),
            "closed_at": None if case.closed_at is None else moment(case.closed_at),
            "open_task_count": int(case.open_task_count),
            "next_timer_at": None if timer is None else moment(timer),
        }


class CaseDetailSerializer(serializers.Serializer):
    """A ``selectors.CaseView``: the data went through ``permissions.policy``."""

    id = serializers.IntegerField(source="case.id")
    reference = serializers.CharField(source="case.reference")
    process_key = serializers.CharField(source="case.process_key")
    status = serializers.CharField(source="case.status")
    coordinator_agency = AgencySerializer(source="case.coordinator_agency")
    responsible = UserRefSerializer(
        source="case.responsible", allow_null=True, help_text="the housing contact responsible for the case"
    )
    opened_at = serializers.DateTimeField(source="case.opened_at")
    closed_at = serializers.DateTimeField(source="case.closed_at", allow_null=True)
    participants = ParticipantSerializer(many=True)
    person = PersonSerializer()
    data = serializers.DictField(child=CategoryViewSerializer(), help_text="category -> shown or masked values")
    open_tasks = TaskSerializer(many=True)
    next_timer_at = serializers.DateTimeField(allow_null=True, help_text="when the case's next timer (deadline) fires")
    outcome = OutcomeSerializer(allow_null=True, help_text="what came of the case; null until it is recorded")


class CaseCreatedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    process_key = serializers.CharField()
    status = serializers.CharField()
    opened_at = serializers.DateTimeField()
    open_tasks = TaskSerializer(many=True)

    def to_representation(self, body) -> dict:
        """The fields above, written out, as ``CompletedSerializer``'s
        (``tests/api/test_task_serializer.py`` compares it with DRF's own answer)."""
        rows = TaskSerializer()
        opened_at = body["opened_at"]
        return {
            "id": int(body["id"]),
            "reference": str(body["reference"]),
            "process_key": str(body["process_key"]),
            "status": str(body["status"]),
            "opened_at": None if opened_at is None else _moment_writer()(opened_at),
            "open_tasks": [rows.to_representation(task) for task in body["open_tasks"]],
        }


class EventSerializer(serializers.Serializer):
    id = PublicIdField("event")
    kind = serializers.CharField()
    at = serializers.DateTimeField(source="created_at")
    actor = serializers.SerializerMethodField()
    agency = AgencySerializer(allow_null=True)
    from_agency = AgencySerializer(allow_null=True)
    to_agency = AgencySerializer(allow_null=True)
    element_id = serializers.CharField()
    task = PublicIdField("task", source="task_id", allow_null=True)
    detail = serializers.SerializerMethodField(
        help_text="what happened; an incident's error text only for the process admin"
    )

    def get_actor(self, event) -> str | None:
        return selectors.event_actor_for(event, self.context["request"].user)

    def get_detail(self, event) -> dict:
        return selectors.event_detail_for(event, self.context["request"].user, _answer_language())

    def to_representation(self, event) -> dict:
        # The fields above, written out (DRF's walk over them and the three nested agencies
        # was most of a timeline page's Python); ``tests/api/test_list_rows.py`` compares.
        return {
            "id": public_ids.encode("event", event.pk),
            "kind": str(event.kind),
            "at": _MOMENT.to_representation(event.created_at),
            "actor": self.get_actor(event),
            "agency": _agency(event.agency),
            "from_agency": _agency(event.from_agency),
            "to_agency": _agency(event.to_agency),
            "element_id": event.element_id,
            "task": public_ids.encode_or_none("task", event.task_id),
            "detail": self.get_detail(event),
        }


def _agency(agency) -> dict | None:
    """``AgencySerializer``'s answer, written out (``None`` for no agency)."""
    return None if agency is None else {"id": agency.pk, "name": agency.name, "kind": str(agency.kind)}


class DiagramSerializer(serializers.Serializer):
    process_key = serializers.CharField()
    version = serializers.IntegerField()
    bpmn_xml = serializers.CharField()
    completed = serializers.ListField(child=serializers.CharField(), help_text="element ids done")
    active = serializers.ListField(child=serializers.CharField(), help_text="element ids in progress")


class TaskDetailSerializer(serializers.Serializer):
    task = TaskSerializer()
    form_schema = DictField(allow_null=True, help_text="JSON schema of the task's form")
    person = PersonSerializer()
    case_data = serializers.DictField(child=CategoryViewSerializer(), help_text="the case data your agency may see")

    def to_representation(self, view) -> dict:
        """A ``selectors.TaskView``: the fields above, written out. DRF's walk copied the
        declared fields of this serializer, the person's and the category's on every answer
        (a tenth of an opened task's Python); ``tests/api/test_task_serializer.py`` compares
        it with DRF's own answer."""
        schema, person = view.form_schema, view.person
        return {
            "task": TaskSerializer().to_representation(view.task),
            "form_schema": None if schema is None else {str(key): value for key, value in schema.items()},
            "person": {
                "name": _text_or_none(person["name"]),
                "national_id": _text_or_none(person["national_id"]),
                "national_id_masked": _boolean(person["national_id_masked"]),
            },
            "case_data": {
                str(category): None if shown is None else _category_view(shown)
                for category, shown in view.case_data.items()
            },
        }


def _text_or_none(value) -> str | None:
    """A ``CharField(allow_null=True)``'s answer."""
    return None if value is None else str(value)


def _boolean(value) -> bool | None:
    """A ``BooleanField``'s answer (``None`` stays ``None``, as DRF leaves a missing value)."""
    return None if value is None else _BOOLEAN.to_representation(value)


_BOOLEAN = serializers.BooleanField()  # its reading of a value, for the answers above


def _category_view(shown) -> dict:
    """``CategoryViewSerializer``'s answer, written out."""
    values = shown.values
    return {
        "visible": _boolean(shown.visible),
        "values": None if values is None else {str(key): value for key, value in values.items()},
        "reason": _text_or_none(shown.reason),
        "basis": None if shown.basis is None else public_ids.public_basis(str(shown.basis)),
    }


class CompletedSerializer(serializers.Serializer):
    task = TaskSerializer()
    case = CaseRefSerializer()
    case_status = serializers.CharField()
    open_tasks = TaskSerializer(many=True, help_text="the case's open tasks after this one")

    def to_representation(self, body) -> dict:
        """The fields above, written out: DRF's walk copied the declared fields of this
        serializer and the case's on every completion (``tests/api/test_task_serializer.py``
        compares it with DRF's own answer). The task and the open tasks are written by two
        ``TaskSerializer``s, each with its own clock, as DRF's two fields did."""
        case = body["case"]
        rows = TaskSerializer()
        return {
            "task": TaskSerializer().to_representation(body["task"]),
            "case": {"id": int(case.id), "reference": str(case.reference)},
            "case_status": str(body["case_status"]),
            "open_tasks": [rows.to_representation(task) for task in body["open_tasks"]],
        }


class LegalBasisSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    law = serializers.CharField()
    paragraph = serializers.CharField()
    title = serializers.CharField()
    is_consent = serializers.BooleanField(help_text="the person's consent (else a provision of law)")
    categories = serializers.ListField(child=serializers.CharField(), help_text="the categories it covers")
    agency_kinds = serializers.ListField(child=serializers.CharField(), help_text="the kinds of agency it lets receive")
    description = serializers.CharField()
    position = serializers.IntegerField(help_text="lower numbers come first in the list")
    active = serializers.BooleanField(help_text="offered for new consents (false: retired)")


class LegalBasisInput(InputSerializer):
    """For the schema only: ``workflows.services.legal_bases`` checks the input (after the
    caller's role, so that nobody but a process admin learns what a write would need)."""

    law = serializers.CharField(max_length=200, required=False, help_text="e.g. forvaltningsloven")
    paragraph = serializers.CharField(max_length=100, required=False, help_text="e.g. § 13 b første ledd nr. 5")
    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    is_consent = serializers.BooleanField(required=False, help_text="the person's consent (default false)")
    categories = serializers.ListField(
        child=serializers.ChoiceField(choices=rules.LEGAL_BASIS_CATEGORIES), required=False
    )
    agency_kinds = serializers.ListField(child=serializers.ChoiceField(choices=AgencyKind.choices), required=False)
    position = serializers.IntegerField(min_value=0, max_value=32767, required=False, help_text="default 100")
    active = serializers.BooleanField(required=False, help_text="false retires it (default true)")


class ConsentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case = serializers.IntegerField(source="case_id")
    agency = AgencySerializer(allow_null=True)
    agency_kind = serializers.CharField()
    categories = serializers.ListField(child=serializers.CharField())
    purpose = serializers.SerializerMethodField(
        help_text="free text: empty unless you are of the coordinating agency, of the agency that recorded it, "
        "or of its recipient"
    )
    legal_basis = LegalBasisSerializer()
    note = serializers.SerializerMethodField(
        help_text="free text: empty unless you are of the coordinating agency or of the agency that recorded it"
    )
    given_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)
    active = serializers.SerializerMethodField()
    recorded_by = serializers.SerializerMethodField()
    revoked_by = serializers.SerializerMethodField()

    def get_active(self, consent) -> bool:
        return consent.is_active()

    def get_purpose(self, consent) -> str:
        # ``purpose_shown``: set by the selector for the reader (``rules.consent_purpose_shown``).
        return consent.purpose if getattr(consent, "purpose_shown", False) else ""

    def get_note(self, consent) -> str:
        # ``note_shown``: set by the selector or the view for the reader (``rules.consent_note_shown``).
        return consent.note if getattr(consent, "note_shown", False) else ""

    def get_recorded_by(self, consent) -> str | None:
        return consent.recorded_by.get_username() if consent.recorded_by_id else None

    def get_revoked_by(self, consent) -> str | None:
        return consent.revoked_by.get_username() if consent.revoked_by_id else None


class BreakGlassSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case = serializers.IntegerField(source="case_id")
    username = serializers.CharField(source="user.username")
    agency = AgencySerializer()
    category = serializers.CharField()
    reason = serializers.CharField()
    opened_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    active = serializers.SerializerMethodField()
    reviewed_at = serializers.DateTimeField(allow_null=True)
    reviewed_by = serializers.SerializerMethodField()
    review_note = serializers.CharField()
    ended_at = serializers.DateTimeField(
        allow_null=True, help_text="when it was ended before its time (expires_at is then the same moment)"
    )
    reads = serializers.IntegerField(
        default=None,
        allow_null=True,
        help_text="reads and downloads made under it (case data, notes, attachments); in the lists",
    )

    def get_active(self, grant) -> bool:
        # By its clock, and only while its case is open: it ends with the case, opening nothing
        # after (``rules.active_break_glass``).
        return grant.is_active() and grant.case.closed_at is None

    def get_reviewed_by(self, grant) -> str | None:
        return grant.reviewed_by.get_username() if grant.reviewed_by_id else None


class AccessLogSerializer(serializers.Serializer):
    id = PublicIdField("access", help_text=OPAQUE_ID.format(kind="access-log row"))
    at = serializers.DateTimeField()
    username = serializers.CharField()
    role = serializers.CharField()
    agency = AgencySerializer(allow_null=True)
    category = serializers.CharField()
    action = serializers.CharField()
    basis = serializers.CharField()
    consent = serializers.IntegerField(source="consent_id", allow_null=True)
    break_glass_reason = serializers.CharField(
        source="break_glass.reason",
        allow_null=True,
        default=None,
        help_text="the written reason of an emergency access",
    )
    item = PublicItemField(
        help_text='what was read when not the case data: "notes", "attachments", '
        '"attachment:<id>" (a download), "note:<id>" (a write), "agency:<id>" (the agency withdrawn from the case, '
        "action `withdraw_agency`); the id of a note, attachment, correction, service or external task, message or "
        "archive export is opaque (a keyed permutation of its own kind: it tells rows about one object apart and "
        "counts nothing)"
    )

    def to_representation(self, row) -> dict:
        # The fields above, written out (``tests/api/test_list_rows.py`` compares with DRF's).
        grant = row.break_glass
        return {
            "id": public_ids.encode("access", row.pk),
            "at": _MOMENT.to_representation(row.at),
            "username": row.username,
            "role": row.role,
            "agency": _agency(row.agency),
            "category": row.category,
            "action": str(row.action),
            "basis": public_ids.public_basis(row.basis),
            "consent": row.consent_id,
            "break_glass_reason": None if grant is None else grant.reason,
            "item": public_ids.public_item(row.item),
        }


def _case_ref(case) -> dict:
    return {"id": case.pk, "reference": case.reference}


class MaskedPersonSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="as the latest case of the report gives it")
    names = serializers.ListField(
        child=serializers.CharField(), help_text="each name the cases of the report give, the latest case's first"
    )
    national_id = serializers.SerializerMethodField(help_text="masked (170920*****)")

    def get_national_id(self, report) -> str:
        return shown_masked(report.person.national_id)


class PersonAccessGroupSerializer(serializers.Serializer):
    """One line of the report: the reads alike in all the fields below on one day."""

    day = serializers.DateField(help_text="the day of the reads (in the service's time zone)")
    first_at = serializers.DateTimeField(help_text="the first of the reads")
    last_at = serializers.DateTimeField(help_text="the last of the reads")
    reads = serializers.IntegerField(help_text="how many access-log rows the line stands for")
    username = serializers.CharField()
    role = serializers.CharField()
    agency = AgencySerializer(allow_null=True)
    case = CaseRefSerializer()
    category = serializers.CharField()
    action = serializers.CharField()
    basis = serializers.CharField()
    break_glass_reason = serializers.CharField(
        source="break_glass.reason",
        allow_null=True,
        default=None,
        help_text="the written reason of an emergency access",
    )

    def to_representation(self, group) -> dict:
        grant = group.break_glass
        return {
            "day": group.day.isoformat(),
            "first_at": _MOMENT.to_representation(group.first_at),
            "last_at": _MOMENT.to_representation(group.last_at),
            "reads": group.reads,
            "username": group.username,
            "role": group.role,
            "agency": _agency(group.agency),
            "case": _case_ref(group.case),
            "category": group.category,
            "action": str(group.action),
            "basis": public_ids.public_basis(group.basis),
            "break_glass_reason": None if grant is None else grant.reason,
        }


class PersonAccessReportSerializer(serializers.Serializer):
    next = serializers.URLField(
        allow_null=True, help_text="the next page of `entries` (the same report's header); null on the last page"
    )
    previous = serializers.URLField(allow_null=True, help_text="the page before; null on the first page")
    person = MaskedPersonSerializer(source="*")
    generated_at = serializers.DateTimeField()
    cases = CaseRefSerializer(
        many=True,
        help_text="the person's cases whose access log is in the report: the report covers these only. "
        "Whether the person has other cases is not told (it would tell that they are a client elsewhere); "
        "each service gives the log of its own cases",
    )
    entries = PersonAccessGroupSerializer(
        many=True,
        help_text="a page of the reads, grouped: one line per day, agency, user and role, case, category, action "
        "and basis, with the number of reads and the first and last time; the newest day first, in a day the line "
        "read last first",
    )


def _answer_language():
    """How a stored error is said in this answer: English (None) unless the client asked
    for another language (``api.exceptions.answers_in_english``), as the error envelope."""
    return None if answers_in_english() else gettext


class IncidentListSerializer(serializers.ListSerializer):
    """A page of incidents: the values their cases hold and held, which their errors are
    scrubbed of, read for the page at once (``selectors.read_literals_ever``)."""

    def to_representation(self, data):
        rows = list(data.all() if hasattr(data, "all") else data)
        selectors.read_literals_ever(rows)
        # The moments' writer with the time zone read once for the page (as
        # ``TaskSerializer._page``): three moments a row each read it again.
        self.child.__dict__["_page_moment"] = _moment_writer()
        try:
            return super().to_representation(rows)
        finally:
            del self.child.__dict__["_page_moment"]


class IncidentSerializer(serializers.Serializer):
    class Meta:
        list_serializer_class = IncidentListSerializer

    id = serializers.IntegerField()
    case = CaseRefSerializer(
        allow_null=True,
        help_text="null for the incident of a job of no case (a file's deletion, a password-reset mail)",
    )
    element_id = serializers.CharField()
    kind = serializers.CharField()
    error = serializers.SerializerMethodField(help_text="what failed, without values of case data")
    attempts = serializers.IntegerField()
    occurrences = serializers.IntegerField(
        help_text="how many failures of this kind it counts (a password-reset mail refused again and again: one "
        "incident); 1 for most"
    )
    last_occurred_at = serializers.SerializerMethodField(help_text="when the last of them failed (created_at for one)")
    job = serializers.SerializerMethodField(help_text="the failed job (notification, webhook, timer), if any")
    created_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)
    resolved_by = serializers.SerializerMethodField()

    def get_error(self, incident) -> str:
        return selectors.incident_error(incident, _answer_language())

    def get_job(self, incident) -> dict | None:
        job = incident.job
        if job is None:
            return None
        return {
            "id": job.pk,
            "kind": job.kind,
            "status": job.status,
            "attempts": job.attempts,
            "last_error": selectors.incident_job_error(incident, _answer_language()),
        }

    def get_resolved_by(self, incident) -> str | None:
        return incident.resolved_by.get_username() if incident.resolved_by_id else None

    @extend_schema_field(serializers.DateTimeField())
    def get_last_occurred_at(self, incident) -> str:
        return self._moment()(incident.last_occurred_at or incident.created_at)

    def _moment(self):
        """The moments' writer: the page's (``IncidentListSerializer``), else one for this row."""
        return self.__dict__.get("_page_moment") or _moment_writer()

    def to_representation(self, incident) -> dict:
        # The fields above, written out (``tests/api/test_list_rows.py`` compares with DRF's).
        resolved_at = incident.resolved_at
        moment = self._moment()
        return {
            "id": incident.pk,
            "case": _case_ref(incident.case) if incident.case_id is not None else None,
            "element_id": incident.element_id,
            "kind": incident.kind,
            "error": self.get_error(incident),
            "attempts": incident.attempts,
            "occurrences": incident.occurrences,
            "last_occurred_at": moment(incident.last_occurred_at or incident.created_at),
            "job": self.get_job(incident),
            "created_at": moment(incident.created_at),
            "resolved_at": None if resolved_at is None else moment(resolved_at),
            "resolved_by": self.get_resolved_by(incident),
        }


# --- moving running cases to another version ---------------------------------------------


class MigrationInput(InputSerializer):
    to_version = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, help_text="the version to move to (default: the latest)"
    )
    case = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, help_text="only this case's instances (default: every case)"
    )


class MigrationPreviewInput(InputSerializer):
    to_version = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, help_text="the version to move to (default: the latest)"
    )


class MigrationCountSerializer(serializers.Serializer):
    count = serializers.IntegerField(
        source="value", allow_null=True, help_text="the number of cases; null where it is hidden"
    )
    shown = serializers.SerializerMethodField(
        help_text=f"the count as text, or 'fewer than {SMALL}' (1 to {SMALL - 1} cases), or 'hidden' (so that such a "
        "small count cannot be worked out from the numbers beside it)"
    )

    def get_shown(self, count) -> str:
        if count.value is not None:
            return str(count.value)
        return answer_text(f"migration.count.{count.hidden}", {"limit": SMALL})


class MigrationProblemSerializer(serializers.Serializer):
    element_id = serializers.CharField(help_text="the element that keeps the cases from moving ('' for the case)")
    reason = serializers.CharField(help_text="a stable code: waiting-element-removed, finished-element-removed, ...")
    message = serializers.SerializerMethodField()

    def get_message(self, problem) -> str:
        return answer_text(versions.reason_code(problem), {"element": problem.element_id})


class MigrationWaitingSerializer(serializers.Serializer):
    element_id = serializers.CharField(help_text="an element of this version the cases wait on")
    name = serializers.CharField()
    new_element_id = serializers.CharField(allow_null=True, help_text="its element in the target version")
    changed = serializers.ListField(child=serializers.CharField(), help_text="attributes of the element that differ")


class MigrationStandingSerializer(serializers.Serializer):
    waiting = MigrationWaitingSerializer(many=True, help_text="every element the cases wait on (several in parallel)")
    problems = MigrationProblemSerializer(many=True, help_text="every reason that keeps them from moving")
    possible = serializers.BooleanField(help_text="whether they can move (no reason keeps them)")
    cases = MigrationCountSerializer(help_text="how many cases stand so")


class MigrationPlanSerializer(serializers.Serializer):
    key = serializers.CharField()
    from_version = serializers.IntegerField()
    to_version = serializers.IntegerField()
    cases = MigrationCountSerializer(help_text="the running cases of this version (incidents included)")
    movable = MigrationCountSerializer(help_text="of those, how many can move")
    refused = MigrationCountSerializer(help_text="of those, how many cannot")
    standings = MigrationStandingSerializer(
        many=True,
        help_text="a row per standing some case has: the elements it waits on and the reasons that keep it from "
        "moving; each case is counted in exactly one row",
    )


class VersionMigrationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    from_version = serializers.IntegerField(source="from_definition.version")
    to_version = serializers.IntegerField(source="to_definition.version")
    actor = serializers.CharField(source="actor.username", allow_null=True)
    created_at = serializers.DateTimeField()
    migrated = serializers.ListField(child=serializers.IntegerField(), help_text="the instances moved")
    refused = serializers.SerializerMethodField(help_text="the instances that stayed, with every reason")

    def get_refused(self, record) -> list[dict]:
        return [
            {
                **entry,
                "problems": [
                    {**p, "message": answer_text(f"migration.reason.{p['reason']}", {"element": p["element_id"]})}
                    for p in entry["problems"]
                ],
            }
            for entry in record.refused
        ]


# --- external tasks (Camunda's names, so that its worker clients fit) ----------------------


MAX_FETCH_TOPICS = 50


class ExternalTopicInput(InputSerializer):
    topicName = serializers.CharField(max_length=200)
    # At most 24 hours: a longer lock is refused (400 naming it), never cut to the limit.
    lockDuration = serializers.IntegerField(
        min_value=1000,
        max_value=external_tasks.MAX_LOCK_SECONDS * 1000,
        help_text="the lock, in milliseconds (at least 1,000, at most 86,400,000: 24 hours)",
    )


class FetchAndLockInput(InputSerializer):
    workerId = serializers.CharField(max_length=100)
    maxTasks = serializers.IntegerField(min_value=1, max_value=100, default=10)
    topics = ExternalTopicInput(many=True)

    def to_internal_value(self, data):
        # A worker subscribes to a few topics; 30,000 in one body (6 MB) took 5.4 s, 1.6 s of
        # it CPU in the web process, the rest PostgreSQL matching them. Counted before any
        # topic is read.
        topics = data.get("topics") if isinstance(data, dict) else None
        if isinstance(topics, list) and len(topics) > MAX_FETCH_TOPICS:
            raise serializers.ValidationError(
                {"topics": [coded("external_task.too_many_topics", limit=MAX_FETCH_TOPICS)]}
            )
        return super().to_internal_value(data)


class CamundaVariable(serializers.Serializer):
    value = serializers.JSONField(allow_null=True)


class ExternalCompleteInput(InputSerializer):
    workerId = serializers.CharField(max_length=100)
    variables = DictField(child=CamundaVariable(), required=False, default=dict, help_text='{"name": {"value": ...}}')


class ExternalFailureInput(InputSerializer):
    workerId = serializers.CharField(max_length=100)
    errorMessage = serializers.CharField(max_length=2000)
    # Bounded so that the job's attempt count and next due time stay what the database holds.
    retries = serializers.IntegerField(
        min_value=0, max_value=1000, required=False, allow_null=True, help_text="attempts left (at most 1,000)"
    )
    retryTimeout = serializers.IntegerField(
        min_value=0,
        max_value=30 * 86400 * 1000,
        required=False,
        allow_null=True,
        help_text="milliseconds before the next fetch (at most 30 days)",
    )


class LockedExternalTaskSerializer(serializers.Serializer):
    id = serializers.UUIDField(
        help_text="the task's key, random (a sequential id would let an agency's system count the municipality's "
        "jobs between two fetches); the same on every fetch of the task"
    )
    topicName = serializers.CharField(source="topic")
    activityId = serializers.CharField(source="element_id")
    caseReference = serializers.CharField(source="case_reference")
    variables = serializers.SerializerMethodField(help_text='the fields the task declares: {"name": {"value": ...}}')
    lockExpirationTime = serializers.DateTimeField(source="lock_expires_at")
    retries = serializers.IntegerField()

    def get_variables(self, task) -> dict:
        return {name: {"value": value} for name, value in task["variables"].items()}


class CaseResponsibleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    responsible = UserRefSerializer(allow_null=True)


class WithdrawalSerializer(serializers.Serializer):
    event = PublicIdField("event", source="id", help_text="the timeline's event of the withdrawal (opaque)")
    at = serializers.DateTimeField(source="created_at")
    agency = AgencySerializer(help_text="the agency withdrawn: it sees the case no more")
    reason = serializers.CharField(source="detail.reason")


class CaseloadRowSerializer(serializers.Serializer):
    user = UserRefSerializer(allow_null=True, help_text="null: the open cases nobody is responsible for")
    open_cases = serializers.IntegerField()
    open_tasks = serializers.IntegerField(
        help_text="active tasks of those open cases that your lists show (any agency's, unless their path is hidden)"
    )
    overdue_tasks = serializers.IntegerField()
    closed_last_year = serializers.IntegerField(help_text="cases completed in the past 365 days")


class CaseloadSerializer(serializers.Serializer):
    agency = AgencySerializer()
    rows = CaseloadRowSerializer(many=True)


class FollowOnInput(InputSerializer):
    process_key = serializers.CharField(max_length=200, help_text="a process whose start form inherits fields")
    participants = DictField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        default=dict,
        help_text="agency kind -> agency id for the kinds the earlier case lacks (the others come from it)",
    )
    responsible = serializers.IntegerField(min_value=1, required=False)
    consent_categories = serializers.ListField(
        child=serializers.CharField(max_length=20),
        required=False,
        default=list,
        help_text="categories the person consents now to share with the new case's agencies that lack them",
    )


class FollowOnSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="case.id")
    reference = serializers.CharField(source="case.reference")
    process_key = serializers.CharField(source="case.process_key")
    follows = serializers.IntegerField(source="case.follows_id")
    carried = serializers.ListField(child=serializers.CharField(), help_text="start-form fields filled")
    withheld = serializers.ListField(
        child=serializers.CharField(), help_text="start-form fields not carried: a new agency may not see them"
    )


class PathCaseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    process_key = serializers.CharField()
    process_name = serializers.CharField()
    status = serializers.CharField()
    opened_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    follows = serializers.IntegerField(
        source="shown_follows.pk", allow_null=True, help_text="the case it follows, when you may see that one too"
    )


class PersonPathSerializer(serializers.Serializer):
    # No person id: ids are sequential, so one would tell that the person was on file before.
    name = serializers.CharField(help_text="as the latest case you may see gives it")
    names = serializers.ListField(
        child=serializers.CharField(), help_text="each name the cases you may see give, the latest case's first"
    )
    national_id = serializers.CharField(help_text="masked")
    cases = PathCaseSerializer(many=True, help_text="the person's cases you may see, oldest first")
