"""Form and due-date checks of user and manual tasks: form files, data categories, dueIn."""

from __future__ import annotations

import functools
import json
from typing import Any

import jsonschema
from lxml import etree

from ..date_range import MAXIMUM_KEYWORD, MINIMUM_KEYWORD, bound_date
from ..errors import ValidationIssue
from ..form_categories import CATEGORY_KEY, beside_fields, differs_inside
from ..forms_validation import schema_problems
from ..timers import TimerValueError, parse_iso_duration_text
from .model import (
    DUE_IN_PROPERTY,
    FORM_PROPERTY,
    _describe,
    _human_tasks,
    _property,
    _property_value,
    _q,
    _quoted_list,
)
from .state import LintState

DATA_CATEGORIES = ("identity", "housing", "economy", "health", "justice", "coordination", "safety")
# "x-share" on a form field widens who sees it beyond its category: the one widening the law
# makes by default (domain.md: of justice data, the release date and the housing conditions
# of parole go to every participant). Health, economy and housing go to another agency only
# with the person's consent, and a field without a category is restricted: a process admin's
# x-share on such a field would share it without either, so it is refused.
SHARE_WITH = ("participants",)
SHAREABLE_CATEGORIES = ("justice",)
# "x-outcome" marks the fields of an outcome form (the case's structured outcome, issue 15):
# the outcome kind, the form of tenure, the reason, the referral date and the date moved in.
OUTCOME_ROLES = ("kind", "tenure", "reason", "referral_date", "housed_date")
# "x-valid-days" on a safety field: how many days its warning is shown to the case's
# participants after it was recorded or last confirmed (domain.md: time-limited); without
# it, SAFETY_WARNING_DAYS. A whole number of days, at most about ten years.
VALID_DAYS_MAX = 3660


def _schema_error(schema: dict[str, Any]) -> str | None:
    """Why ``schema`` is no JSON Schema (draft 2020-12), or None. Checking a form against the
    meta-schema is the costly part of a deploy's lint, and a deploy checks every form of its
    model again, unchanged or not: the answer is kept per form text."""
    try:
        text = json.dumps(schema)
    except (TypeError, ValueError):  # not JSON (a form given from Python): checked as it is
        return _meta_schema_error(schema)
    if json.loads(text) != schema:  # a tuple, say, which the text would turn into an array
        return _meta_schema_error(schema)
    return _meta_schema_error_of_text(text)


@functools.lru_cache(maxsize=512)
def _meta_schema_error_of_text(text: str) -> str | None:
    # Loaded from its own dump: the same keys in the same order, so the same first error.
    return _meta_schema_error(json.loads(text))


def _meta_schema_error(schema: Any) -> str | None:
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        where = "/".join(str(part) for part in exc.absolute_path)
        at = f" at '{where}'" if where else ""
        return f"is not a valid JSON Schema (draft 2020-12){at}: {exc.message}"
    return None


# The formats of a date, a date and time and a time of day: the task page draws each as its own
# input (``web.schema_forms``), and the form checks the value. On a field that is no text, or
# spelled otherwise ("datetime", "Time"), jsonschema ignores a format: the field would be a plain
# text field taking anything, unnoticed.
TIME_FORMATS = ("date", "date-time", "time")


def _squeezed(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum())


def _time_format_problems(name: str, prop: dict[str, Any]) -> list[tuple[Any, ...]]:
    """A date, date-time or time format on a text field, spelled as JSON Schema spells it."""
    form_format = prop.get("format")
    if not isinstance(form_format, str):
        return []
    if form_format in TIME_FORMATS:
        kinds = prop.get("type", "string")
        kinds = kinds if isinstance(kinds, list) else [kinds]
        if "string" in kinds:
            return []
        reason = (
            f"gives the field '{name}' the format {form_format!r} but not the type \"string\"; a date or "
            'time is text: write "type": "string" (jsonschema ignores a format on other types)'
        )
        return [("invalid-field-format", reason, {"field": name, "variant": "type"})]
    if _squeezed(form_format) in {_squeezed(f) for f in TIME_FORMATS}:
        reason = (
            f"gives the field '{name}' the format {form_format!r}, which jsonschema does not know (it would "
            'be a plain text field); write "date", "date-time" or "time"'
        )
        return [("invalid-field-format", reason, {"field": name, "variant": "spelling"})]
    return []


def _date_range_problems(name: str, prop: dict[str, Any]) -> list[tuple[Any, ...]]:
    """A field's own date range (``date_range``) must be ISO dates, the minimum not after the
    maximum: at run time a bound that is none falls back to the default range unnoticed."""
    given = {keyword: prop[keyword] for keyword in (MINIMUM_KEYWORD, MAXIMUM_KEYWORD) if keyword in prop}
    days = {keyword: bound_date(value) for keyword, value in given.items()}
    low, high = days.get(MINIMUM_KEYWORD), days.get(MAXIMUM_KEYWORD)
    if all(days.values()) and not (low and high and low > high):
        return []
    return [
        (
            "invalid-date-range",
            f"gives the field '{name}' a {MINIMUM_KEYWORD} or {MAXIMUM_KEYWORD} that is not an ISO date such as "
            f"1900-01-01, or a {MINIMUM_KEYWORD} after its {MAXIMUM_KEYWORD}; write the first and the last date "
            "the field accepts, or leave them out for 1900-01-01 to 2199-12-31",
            {"field": name},
        )
    ]


class FormChecks(LintState):
    """Form and dueIn checks of ``_Linter`` (see ``linter.py``)."""

    def _check_form(self, form_name: str) -> list[tuple[Any, ...]]:
        """Problems of one form, as (code, reason) pairs, or (code, reason, place) for those
        of ``schema_problems`` (the field or JSON pointer); cached per form."""
        if form_name in self._form_problems:
            return self._form_problems[form_name]
        problems: list[tuple[Any, ...]] = []
        schema = self.forms[form_name]
        if not isinstance(schema, dict):
            problems.append(("invalid-form", f"is a {type(schema).__name__}, not a JSON object"))
        else:
            invalid = _schema_error(schema)
            if invalid is not None:
                problems.append(("invalid-form", invalid))
            else:
                # Remote or recursive $ref, patterns RE2 cannot run: what would attack the server.
                attacks = [(problem.code, problem.describe(), problem.place()) for problem in schema_problems(schema)]
                problems += attacks
                properties = schema.get("properties")
                if schema.get("type") != "object" or not isinstance(properties, dict):
                    problems.append(("invalid-form", 'must be a schema with "type": "object" and "properties"'))
                else:
                    problems += _outcome_role_problems(properties)
                    problems += _enum_label_problems(properties)
                    problems += _inherit_problems(properties)
                    if not attacks:  # the references followed: only where their fan-out is bounded
                        problems += _form_level_category_problems(schema)
                    for prop_name, prop in properties.items():
                        if not isinstance(prop, dict):
                            # ``true`` or ``false``: valid JSON Schema, but no field (no type, no
                            # category); the deploy's later steps read each field's schema as an
                            # object, and one of these was a 500 for the editor and the API.
                            problems.append(
                                (
                                    "invalid-field-schema",
                                    f"gives the field '{prop_name}' the schema {json.dumps(prop)}, not an object "
                                    "with the field's type; write the field as an object such as "
                                    '{"type": "string"}, or remove it',
                                    {"field": prop_name},
                                )
                            )
                            continue
                        problems += _share_problems(prop_name, prop)
                        problems += _valid_days_problems(prop_name, prop)
                        problems += _date_range_problems(prop_name, prop)
                        problems += _time_format_problems(prop_name, prop)
                        if not attacks:  # each field's references followed: only where their fan-out is bounded
                            problems += _nested_category_problems(prop_name, prop, schema)
                        if not isinstance(prop, dict) or "x-category" not in prop:
                            continue  # no category: the field is restricted
                        category = prop["x-category"]
                        if category not in DATA_CATEGORIES:
                            problems.append(
                                (
                                    "invalid-category",
                                    f"gives the field '{prop_name}' the category "
                                    f"{category!r}, which is not a data category; use one of "
                                    f"{', '.join(DATA_CATEGORIES)} (or leave x-category out "
                                    "to keep the field restricted)",
                                )
                            )
        self._form_problems[form_name] = problems
        return problems

    def _check_form_property(self, el: etree._Element) -> None:
        if _property(el, FORM_PROPERTY) is None:
            return
        form_name = _property_value(el, FORM_PROPERTY)
        if not form_name:
            self.add(
                "missing-form",
                f"{_describe(el)} has an empty {FORM_PROPERTY}; name the form file or remove the property",
                el,
                variant="empty",
                property=FORM_PROPERTY,
            )
        elif form_name not in self.forms:
            given = _quoted_list(sorted(self.forms)) or "none"
            self.add(
                "missing-form",
                f"{_describe(el)} uses the form '{form_name}', which was not "
                f"deployed with the model (forms given: {given}); deploy the form with the model "
                '(the editor\'s forms, "forms" in the API, a file beside the model for deploy_bpmn) '
                "or remove the property",
                el,
                variant="not-deployed",
                form=form_name,
                given=given,
            )
        else:
            for code, reason, *place in self._check_form(form_name):
                # The third item: the field or JSON pointer (``schema_problems``), or more params.
                where = (place[0] if isinstance(place[0], dict) else {"place": place[0]}) if place else {}
                self.add(code, f"the form '{form_name}' of {_describe(el)} {reason}", el, form=form_name, **where)

    def check_task_properties(self, process: etree._Element) -> None:
        # A top-level start event may name the start form: the fields a case start writes.
        for start in process.iterfind(_q("startEvent")):
            self._check_form_property(start)
        for task in _human_tasks(process):
            self._check_form_property(task)
            if _property(task, DUE_IN_PROPERTY) is not None:
                due_in = _property_value(task, DUE_IN_PROPERTY) or ""
                try:
                    parse_iso_duration_text(due_in)
                except TimerValueError as exc:
                    detail = str(exc)
                    reason = (
                        "which is not an ISO-8601 duration such as P5D or PT4H"
                        if "not an ISO-8601 duration" in detail
                        else f"which cannot be used: {detail}"
                    )
                    self.add("invalid-due-in", f"{_describe(task)} has dueIn {due_in!r}, {reason}", task, due_in=due_in)


class _FormsOnly(FormChecks):
    """The form checks without a model: for the forms no element of the model names."""

    def __init__(self, forms: dict[str, dict[str, Any]], filename: str) -> None:
        self.forms = forms
        self.filename = filename
        self.issues = []
        self._form_problems = {}


def lint_other_forms(forms: dict[str, dict[str, Any]], *, checked: set[str], filename: str) -> list[ValidationIssue]:
    """The checks of ``FormChecks._check_form`` on every deployed form not in ``checked`` (the
    forms a start event or a task of the model or its called files names, checked there).

    Until 2026-12-05 such a form was never checked, yet stored with the version: its fields
    still set the validators of message payloads and ``permissions.policy.field_rules``
    (the categories and x-share of the fields), and a task whose form is found by its id
    (a form named as ``camunda_forms.form_name_for`` names it) showed it. An invalid schema,
    a pattern RE2 cannot run, a remote or recursive $ref or an x-share on health data got in
    that way. An issue names the form and no element; the API names the field ``forms``."""
    linter = _FormsOnly(forms, filename)
    for form_name in sorted(forms):
        if form_name in checked:
            continue
        for code, reason, *place in linter._check_form(form_name):
            where = (place[0] if isinstance(place[0], dict) else {"place": place[0]}) if place else {}
            linter.add(code, f"the form '{form_name}' {reason}", None, form=form_name, **where)
    return linter.issues


def _nested_category_problems(prop_name: str, prop: dict[str, Any], schema: dict[str, Any]) -> list[tuple[Any, ...]]:
    """An ``x-category`` inside a field (an object's property, a list's items, a definition it
    refers to) that is not the field's own: the policy reads the field's category only, so
    that part would be shown as the whole field is (``bpmn.engine.form_categories``)."""
    inside = differs_inside(prop, schema)
    if not inside:
        return []
    own = prop.get(CATEGORY_KEY)
    reason = (
        f"gives a part of the field '{prop_name}' the category {', '.join(sorted(inside))}, and the field "
        f"{'the category ' + repr(own) if own else 'none (restricted)'}; a category belongs to a whole field, "
        "and the part would be shown as the field is: make the part a field of its own with its category, "
        "or give the field the category of its most sensitive part"
    )
    return [("nested-category", reason, {"field": prop_name})]


def _form_level_category_problems(schema: dict[str, Any]) -> list[tuple[Any, ...]]:
    """An ``x-category`` written beside the fields (in the form's ``allOf``, ``if``/``then``,
    ``dependentSchemas``, ``patternProperties`` and the like) that is not the field's own: the
    policy reads a field's category from its top-level property only, so the field would be
    shown as that property says (``bpmn.engine.form_categories.beside_fields``)."""
    problems: list[tuple[Any, ...]] = []
    for field_or_place, categories in beside_fields(schema):
        reason = (
            f"gives the field '{field_or_place}' the category {', '.join(sorted(categories))} beside the field's "
            "own property (in allOf, anyOf, oneOf, if/then/else, dependentSchemas, patternProperties or "
            "additionalProperties of the form); a field's category is read from its own property only, and the "
            'field would be shown as that says: write x-category on the field\'s own property in "properties"'
        )
        problems.append(("form-level-category", reason, {"field": field_or_place}))
    return problems


def _share_problems(prop_name: str, prop: Any) -> list[tuple[Any, ...]]:
    """An ``x-share`` is ``participants``, on a field whose category the law shares by default."""
    if not isinstance(prop, dict) or "x-share" not in prop:
        return []
    if prop["x-share"] not in SHARE_WITH:
        reason = (
            f"gives the field '{prop_name}' \"x-share\": {prop['x-share']!r}; the only value is "
            f"{SHARE_WITH[0]!r} (every participating agency sees the field)"
        )
        return [("invalid-share", reason, {"variant": "value"})]
    if prop.get("x-category") not in SHAREABLE_CATEGORIES:
        category = prop.get("x-category")
        reason = (
            f"shares the field '{prop_name}' (category {category!r}) with every participant; only a "
            f"field of the category {SHAREABLE_CATEGORIES[0]!r} may be shared so (the release date, "
            "the housing conditions of parole): other data goes to another agency with the person's "
            "consent or a legal basis"
        )
        return [("invalid-share", reason, {"variant": "category"})]
    return []


def _valid_days_problems(prop_name: str, prop: dict[str, Any]) -> list[tuple[Any, ...]]:
    """An ``x-valid-days`` is a whole number of days from 1 to ``VALID_DAYS_MAX``, on a field of
    the category ``safety`` (only a safety warning lapses)."""
    if "x-valid-days" not in prop:
        return []
    days = prop["x-valid-days"]
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= VALID_DAYS_MAX:
        reason = (
            f"gives the field '{prop_name}' \"x-valid-days\": {json.dumps(days)}; give the number of days "
            f"its safety warning is shown, a whole number from 1 to {VALID_DAYS_MAX}"
        )
        return [("invalid-valid-days", reason, {"variant": "value", "field": prop_name})]
    if prop.get("x-category") != "safety":
        reason = (
            f"gives the field '{prop_name}' (category {prop.get('x-category')!r}) \"x-valid-days\"; only a "
            "field of the category 'safety' (a warning for staff) lapses"
        )
        return [("invalid-valid-days", reason, {"variant": "category", "field": prop_name})]
    return []


def _outcome_role_problems(properties: dict[str, Any]) -> list[tuple[str, str]]:
    """An outcome form names each role once, and always the kind (the rest is about it)."""
    problems = []
    roles: dict[str, str] = {}
    for prop_name, prop in properties.items():
        if not isinstance(prop, dict) or "x-outcome" not in prop:
            continue
        role = prop["x-outcome"]
        if role not in OUTCOME_ROLES:
            problems.append(
                (
                    "invalid-outcome-role",
                    f"gives the field '{prop_name}' \"x-outcome\": {role!r}; use one of {', '.join(OUTCOME_ROLES)}",
                )
            )
        elif role in roles:
            problems.append(
                (
                    "invalid-outcome-role",
                    f"marks both '{roles[role]}' and '{prop_name}' as the outcome's {role}; mark one field per role",
                )
            )
        else:
            roles[role] = prop_name
    if roles and "kind" not in roles:
        problems.append(
            (
                "invalid-outcome-role",
                'has outcome fields but none marked "x-outcome": "kind"; an outcome form records the kind',
            )
        )
    kind = properties.get(roles.get("kind", ""))
    if isinstance(kind, dict) and kind.get("type") != "string":
        problems.append(
            (
                "invalid-outcome-role",
                f"marks '{roles['kind']}' as the outcome kind, which must be a string field (the kind's code)",
            )
        )
    return problems


def _enum_label_problems(properties: dict[str, Any]) -> list[tuple[str, str]]:
    """``"x-enum-labels"``: the text shown for each choice of an ``enum`` (the stored value
    stays the code), so only for choices the field has, and only text."""
    problems = []
    for prop_name, prop in properties.items():
        if not isinstance(prop, dict) or "x-enum-labels" not in prop:
            continue
        labels, choices = prop["x-enum-labels"], prop.get("enum")
        if not isinstance(labels, dict) or not all(isinstance(v, str) and v.strip() for v in labels.values()):
            problems.append(
                (
                    "invalid-enum-labels",
                    f"gives the field '{prop_name}' \"x-enum-labels\" that are "
                    "not an object of texts (choice -> label)",
                )
            )
        elif not isinstance(choices, list) or set(labels) - {str(c) for c in choices}:
            unknown = sorted(set(labels) - {str(c) for c in choices or []})
            problems.append(
                (
                    "invalid-enum-labels",
                    f"labels choices the field '{prop_name}' does not have ({', '.join(unknown) or 'it has no enum'})",
                )
            )
    return problems


def _inherit_problems(properties: dict[str, Any]) -> list[tuple[str, str]]:
    """``"x-inherit"`` (a start form's field filled from the case it follows on from): the
    names of the earlier case's fields to take it from, first found first."""
    problems = []
    for prop_name, prop in properties.items():
        if not isinstance(prop, dict) or "x-inherit" not in prop:
            continue
        names = prop["x-inherit"]
        if not isinstance(names, list) or not names or not all(isinstance(n, str) and n.strip() for n in names):
            problems.append(
                (
                    "invalid-inherit",
                    f"gives the field '{prop_name}' \"x-inherit\" that is not a list of field names",
                )
            )
    return problems
