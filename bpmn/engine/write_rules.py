"""Who may write which fields of a case, as the model declares it (compiled at deploy).

Every write of case data has a writer agency and is limited to the fields that writer may
set: a task its own form's fields (checked when it completes), a case start the fields of
the start form, a message the fields its ``bpmn:message`` declares, and only from the
agency kinds the message names:

.. code-block:: xml

    <bpmn:message id="Message_release_date_changed" name="release_date_changed">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="senders" value="prison"/>
          <spiffworkflow:property name="fields" value="expected_release_date"/>
        </spiffworkflow:properties>
      </bpmn:extensionElements>
    </bpmn:message>

A message without ``senders`` deploys (models from other tools rarely say who sends what)
but no agency may send it from outside: it can only be caught from a throw event of the
process itself. The start form is ``formJsonSchemaFilename`` on the top-level none start
event; without one a case starts with no data.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lxml import etree

from .errors import ValidationIssue
from .lanes import AGENCY_KINDS
from .lint.model import FORM_PROPERTY, NSMAP, _property, _property_value, _q

SENDERS_PROPERTY = "senders"
FIELDS_PROPERTY = "fields"


def _names(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _issue(code: str, message: str, el: etree._Element, filename: str, **params: Any) -> ValidationIssue:
    """``params``: what ``message`` is built from, to say it in the user's language."""
    params = {"name": el.get("name") or el.get("id") or "", "kinds": ", ".join(AGENCY_KINDS), **params}
    return ValidationIssue(code, message, element_id=el.get("id"), line=el.sourceline, file=filename, params=params)


def message_rules(
    root: etree._Element, fields: dict[str, str], filename: str
) -> tuple[dict[str, Any], list[ValidationIssue]]:
    """``{message name: {"senders": [kinds], "fields": [names], "element_id": id}}`` for every
    ``bpmn:message`` that declares its senders, and the problems of the declarations."""
    rules, issues = {}, []
    for message in root.iter(_q("message")):
        name = message.get("name") or message.get("id") or ""
        where = f"message '{message.get('id')}' ({name})"
        senders_given = _property(message, SENDERS_PROPERTY) is not None
        fields_given = _property(message, FIELDS_PROPERTY) is not None
        if not senders_given:
            if fields_given:
                issues.append(
                    _issue(
                        "message-senders-missing",
                        f"{where} declares the fields it writes but not who may send it; add the property "
                        f"'{SENDERS_PROPERTY}' with agency kinds ({', '.join(AGENCY_KINDS)}), comma-separated",
                        message,
                        filename,
                    )
                )
            continue
        senders = _names(_property_value(message, SENDERS_PROPERTY))
        declared = _names(_property_value(message, FIELDS_PROPERTY))
        if not senders:
            issues.append(
                _issue(
                    "message-senders-missing",
                    f"{where} has an empty '{SENDERS_PROPERTY}'; name the agency kinds that may send it "
                    f"({', '.join(AGENCY_KINDS)}), comma-separated",
                    message,
                    filename,
                )
            )
        for kind in senders:
            if kind not in AGENCY_KINDS:
                issues.append(
                    _issue(
                        "message-sender-unknown",
                        f"{where} names the sender {kind!r}, which is not an agency kind; use "
                        f"{', '.join(AGENCY_KINDS)}",
                        message,
                        filename,
                        sender=kind,
                    )
                )
        for field in declared:
            if field not in fields:
                issues.append(
                    _issue(
                        "message-field-unknown",
                        f"{where} declares the field {field!r}, which no form of the process has; a message "
                        "writes only fields of the process's forms (their category and validation)",
                        message,
                        filename,
                        field=field,
                    )
                )
        rules[name] = {"senders": senders, "fields": declared, "element_id": message.get("id")}
    return rules, issues


def start_form(root: etree._Element, process_ids: Sequence[str]) -> tuple[str, str] | None:
    """(start event id, form name) of the first top-level start event of ``process_ids`` (the
    process, or a collaboration's executable pools in order) that names a form (the lint
    checked the form exists), None when none does."""
    for process_id in process_ids:
        process = next((p for p in root.iter(_q("process")) if p.get("id") == process_id), None)
        for event in process.iterfind("bpmn:startEvent", NSMAP) if process is not None else ():
            if name := _property_value(event, FORM_PROPERTY):
                return event.get("id"), name
    return None
