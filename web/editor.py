"""The editor's JSON endpoints: save and discard a draft, validate, deploy, preview a form.

Each is a POST with a JSON body and the CSRF token in ``X-CSRFToken``; each calls one
service, the same the REST API uses for deploying. Answers are JSON in the API's error
shape (``detail`` and ``errors``), except the form preview, which is an HTML fragment.
"""

from __future__ import annotations

import functools
import json

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from bpmn import services
from bpmn.registry import form_problems
from core.errors import InvalidInput, ServiceError, field_error
from core.http_methods import require_POST
from permissions import rules
from web import schema_forms
from web.pages import error_text, field_errors, translate
from workflows import input_limits

# Deepest nesting an editor body may have: forms nest a few levels inside "forms"; far
# deeper JSON is an attack on the parser or on what walks the forms later.
EDITOR_MAX_DEPTH = 64


def _error(detail: str, errors=None, status=400) -> JsonResponse:
    return JsonResponse({"detail": detail, "errors": [_without_params(e) for e in errors or []]}, status=status)


def _without_params(error: dict) -> dict:
    return {key: value for key, value in error.items() if key not in ("params", "message_code")}


def editor_endpoint(view):
    """POST only, login required, process admins only; the JSON body is passed as ``data``."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not rules.is_process_admin(request.user):
            return _error(translate("process.edit_forbidden"), status=403)
        try:
            # A posted form has been read as a form already (config.input_guard): not JSON.
            data = json.loads(request.body or b"{}") if request.content_type == "application/json" else None
        except (ValueError, UnicodeDecodeError):
            data = None
        except RecursionError:
            too_deep = field_error("body", "field.too_deep", limit=EDITOR_MAX_DEPTH)
            return _error(translate("body.too_deep"), field_errors([too_deep]))
        if not isinstance(data, dict):
            expected = field_error("body", "field.expected_object")
            return _error(translate("body.not_json_object"), field_errors([expected]))
        errors = input_limits.character_errors(data, max_depth=EDITOR_MAX_DEPTH)
        if errors:
            return _error(translate("request.unstorable_text"), field_errors(errors))
        try:
            return view(request, data, *args, **kwargs)
        except ServiceError as exc:
            return _error(error_text(exc), field_errors(exc.errors), status=exc.status_code)

    return login_required(require_POST(wrapper))


def _content(data) -> dict:
    return {
        "bpmn_xml": data.get("bpmn_xml"),
        "forms": data.get("forms", {}),
        "lanes": data.get("lanes") or {},
        "routing": data.get("routing") or None,
    }


def _key(data) -> str:
    key = data.get("key") or ""
    if not isinstance(key, str):
        raise InvalidInput("draft.bad_key", errors=[field_error("key", "field.expected_text")])
    return key


@editor_endpoint
def draft_save(request, data):
    """``base`` in the body: the ``updated_at`` of the draft the editor started from (None:
    it opened without a draft). A later save by someone else answers 409 and saves nothing."""
    base = {"base": data["base"]} if "base" in data else {}
    try:
        draft = services.save_draft(actor=request.user, key=_key(data), **_content(data), **base)
    except services.DraftConflict as exc:
        return _conflict(
            exc.draft,
            _(
                "%(name)s saved this draft at %(time)s, after you opened it. Reload the page to see that "
                "work, or save again to replace it with yours."
            ),
        )
    return JsonResponse(
        {
            "saved": True,
            "updated_at": draft.updated_at.isoformat(),
            "updated_at_display": formats.date_format(draft.updated_at, "SHORT_DATETIME_FORMAT"),
        }
    )


def _conflict(other, text: str) -> JsonResponse:
    """409: another save of the draft came after the one the editor started from (``base``)."""
    detail = text % {
        "name": other.updated_by.get_full_name() or other.updated_by.get_username(),
        "time": formats.date_format(timezone.localtime(other.updated_at), "SHORT_DATETIME_FORMAT"),
    }
    return JsonResponse(
        {"detail": detail, "errors": [{"field": "base", "message": detail}], "current": other.updated_at.isoformat()},
        status=409,
    )


@editor_endpoint
def draft_discard(request, data):
    """``base`` in the body, required: the ``updated_at`` of the draft the editor started
    from or last saved (None: it opened without one). A draft saved after it (a colleague's
    newer work) answers 409 and is kept; without ``base`` it was dropped unseen."""
    if "base" not in data:
        raise InvalidInput("draft.bad_base", errors=[field_error("base", "field.required")])
    try:
        discarded = services.discard_draft(actor=request.user, key=_key(data), base=data["base"])
    except services.DraftConflict as exc:
        return _conflict(
            exc.draft,
            _(
                "%(name)s saved this draft at %(time)s, after you opened it, and it was not discarded. "
                "Reload the page to see that work, or discard again to drop it."
            ),
        )
    return JsonResponse({"discarded": discarded})


@editor_endpoint
def validate(request, data):
    result = services.validate_draft(actor=request.user, **_content(data))
    issues = [_without_params(issue) for issue in field_errors(result.issues)]
    return JsonResponse({"valid": result.valid, "process_id": result.process_id, "issues": issues})


@editor_endpoint
def deploy(request, data):
    base = {"base": data["base"]} if "base" in data else {}
    result = services.deploy_draft(actor=request.user, key=_key(data), **_content(data), **base)
    definition = result.definition
    # Another admin's draft saved after the one the editor started from is kept.
    kept = services.draft_for(actor=request.user, key=definition.key) is not None
    return JsonResponse(
        {
            "created": result.created,
            "key": definition.key,
            "version": definition.version,
            "checksum": definition.checksum,
            "url": reverse("process", kwargs={"key": definition.key}),
            "edit_url": reverse("process-edit", kwargs={"key": definition.key}),
            "draft_kept": kept,
        },
        status=201 if result.created else 200,
    )


@editor_endpoint
def form_preview(request, data):
    """The form as the agency will see it: the task page's own field partial."""
    schema = data.get("schema")
    problems = []
    if not isinstance(schema, dict):
        problems.append(_("the form is not a JSON object"))
        schema = {}
    else:
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            problems.append(_("not a valid JSON Schema: %(reason)s") % {"reason": exc.message})
        else:
            problems += [
                _("the form cannot be used: %(problem)s") % {"problem": translate(code, params)}
                for code, params in form_problems(schema)
            ]
    return render(
        request,
        "bpmn/_form_preview.html",
        {
            "fields": schema_forms.fields_for(schema if not problems else {}),
            "problems": problems,
        },
    )
