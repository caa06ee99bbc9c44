"""The text of every error code, in English (the msgids the pages translate).

``gettext_noop`` only marks each text for ``makemessages``: core knows no Django. A page
shows ``gettext(MESSAGES[code]) % params`` (``web.pages``); the API answers the English
text unless the client asks for another language (``api.exceptions.answer_text``).
``tests/web/test_error_translations.py`` fails when a code has no bokmål entry.

A refused BPMN model's problems (``model.*``) are the engine's issues: the engine keeps
its English message and gives the params it is built from (``bpmn.services.issue_error``).

Params name what the message needs (a limit, a field's title, an agency's name), never a
value of case data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def gettext_noop(message: str) -> str:
    return message


MESSAGES: dict[str, str] = {
    # --- not found (also: invisible to the caller; no existence leak) ---
    "not_found": gettext_noop("not found"),
    "case.not_found": gettext_noop("no such case"),
    "case.no_instance": gettext_noop("the case has no process instance"),
    "retention.case_open": gettext_noop("the case is still open: only a closed case can be erased"),
    "retention.archive_duty": gettext_noop(
        "the case cannot be erased yet: its case file (%(categories)s) must be handed to the archive first"
    ),
    "retention.erasure_not_found": gettext_noop("no such erasure"),
    "retention.case_open_export": gettext_noop("the case is still open: only a closed case is handed to the archive"),
    "retention.export_pending": gettext_noop("an archive export of this case is already under way"),
    "retention.invalid": gettext_noop("the request has errors"),
    "retention.erased": gettext_noop("the case's personal data has been erased"),
    "retention.not_coordinator": gettext_noop("only the coordinator of the case may do this"),
    "retention.rules_forbidden": gettext_noop("only process admins set the retention rules"),
    "retention.rule_not_found": gettext_noop("no such retention rule"),
    "retention.rules_read_forbidden": gettext_noop("only process admins and auditors read the retention rules"),
    "retention.rule_changes_forbidden": gettext_noop("only auditors read the changes to the retention rules"),
    "retention.rule_changed": gettext_noop(
        "the retention rule has been changed since you read it: read it again and make your change there"
    ),
    "retention.rule_invalid": gettext_noop("the retention rule is not valid"),
    "retention.rule_years": gettext_noop("give a whole number of years from %(low)s to %(high)s"),
    "retention.rule_unknown_process": gettext_noop("choose a deployed process, or every process"),
    "retention.rule_unknown_category": gettext_noop("choose a data category from the list, or every category"),
    "retention.rule_text_too_long": gettext_noop("at most %(limit)s characters"),
    "retention.rule_duplicate": gettext_noop("this process already has a rule for this category"),
    "retention.recorded_by_other_agency": gettext_noop(
        "another agency recorded this value: someone who works the case for that agency corrects it"
    ),
    "retention.safety_remove_only": gettext_noop(
        "another agency recorded this safety warning: as the coordinator you may remove it, "
        "not change its words; ask that agency to correct it"
    ),
    "retention.not_auditor": gettext_noop("only an auditor reads what retention did"),
    "retention.not_request": gettext_noop("only an erasure on request is reviewed"),
    "retention.reviewed": gettext_noop("this erasure has been reviewed already"),
    "retention.unknown_field": gettext_noop("the case has no such value"),
    "safety.invalid": gettext_noop("the request has errors"),
    "safety.no_warning": gettext_noop("the case has no such safety warning"),
    "safety.confirm_forbidden": gettext_noop(
        "only the agency that recorded the safety warning and the coordinator of the case may confirm it"
    ),
    "safety.case_closed": gettext_noop("the case is closed: its safety warnings are no longer confirmed"),
    "retention.safety_case_closed": gettext_noop(
        "the case is closed: no safety warning is recorded in it any more, nor a removed one put back; "
        "its warnings' words may still be corrected, or the warnings removed"
    ),
    "retention.no_earlier_value": gettext_noop("no earlier value of this field was recorded in the case"),
    "retention.same_value": gettext_noop("the new value is the same as the old one"),
    "retention.wrong_type": gettext_noop("the new value must be of the same type as the old one"),
    "retention.national_id_waiting": gettext_noop(
        "a correction of the national id already waits for an auditor's review in this case"
    ),
    "retention.correction_reviewed": gettext_noop("this correction has been decided already"),
    "retention.correction_not_found": gettext_noop("no such correction to review"),
    "retention.merge_holder_changed": gettext_noop(
        "the person who holds the number changed while you decided; look at the correction again"
    ),
    "task.not_found": gettext_noop("no such task"),
    "person.not_found": gettext_noop("no such person"),
    "consent.not_found": gettext_noop("no such consent"),
    "break_glass.not_found": gettext_noop("no such emergency access"),
    "legal_basis.not_found": gettext_noop("no such legal basis"),
    "incident.not_found": gettext_noop("no such incident"),
    "process.not_found": gettext_noop("no such process definition"),
    "process.version_not_found": gettext_noop("no such version"),
    # --- forbidden ---
    "process.deploy_forbidden": gettext_noop("only process admins deploy process definitions"),
    "process.edit_forbidden": gettext_noop("only process admins edit process definitions"),
    "process.manage_forbidden": gettext_noop("only process admins manage process definitions"),
    "incident.view_forbidden": gettext_noop("only process admins see incidents"),
    "insight.forbidden": gettext_noop("only leaders see the figures"),
    "insight.heatmap_forbidden": gettext_noop("only leaders and process admins see wait times on the diagram"),
    "consent.record_forbidden": gettext_noop("you may not record consent in this case"),
    "consent.revoke_forbidden": gettext_noop("you may not revoke this consent"),
    "break_glass.forbidden": gettext_noop("only people who work the case may open data in an emergency"),
    "break_glass.review_forbidden": gettext_noop("only auditors review emergency access"),
    "break_glass.end_forbidden": gettext_noop(
        "only the person who opened the emergency access or an auditor reviewing it may end it"
    ),
    "legal_basis.manage_forbidden": gettext_noop("only process admins keep the list of legal bases"),
    "case.assign_forbidden": gettext_noop("only the lead of the case's housing agency changes who is responsible"),
    "case.follow_on_forbidden": gettext_noop("only a housing contact of the case starts the next case of the path"),
    "caseload.forbidden": gettext_noop("only the lead of a housing agency sees its caseload"),
    "consent.recipient_records": gettext_noop(
        "an agency never records a sharing with itself: the coordinator or the agency that holds the data records it"
    ),
    "consent.not_holder": gettext_noop(
        "only the coordinator (for the person's consent) or the agency that holds the data records this sharing"
    ),
    "access_log.forbidden": gettext_noop("only the case's coordinators and auditors read its access log"),
    "case.start_forbidden": gettext_noop(
        "you may start cases only for an agency you work in, as one of its participants"
    ),
    "case.start_no_agency": gettext_noop("you work in no agency, so you cannot start cases"),
    "task.other_agency": gettext_noop("this task is for %(agency)s; you do not work there"),
    # --- conflicts ---
    "task.completed": gettext_noop("the task is no longer open: it is completed"),
    "task.cancelled": gettext_noop("the task is no longer open: it is cancelled"),
    "task.not_open": gettext_noop("the task is no longer open"),
    "task.claimed_by_other": gettext_noop("the task is claimed by %(name)s"),
    "task.not_claimed": gettext_noop("the task is not claimed"),
    "task.claims_full": (
        "you have taken this task %(limit)s times in the last 24 hours, as often as one person may; complete it "
        "without taking it, leave it to a colleague, or take it again tomorrow"
    ),
    "case.responsible_changes_full": (
        "you have changed who is responsible for the case %(limit)s times, as often as one "
        "person may; leave the next change to another lead of the agency"
    ),
    "break_glass.openings_full": (
        "you have opened emergency access in this case %(limit)s times, as often as one "
        "person may; ask a colleague or the case's coordinator for help"
    ),
    "message.case_messages_full": (
        "your agency has sent %(limit)s messages into the case, as many as one agency may send "
        "into a case; write what has changed in a note on the case instead"
    ),
    "today.not_housing_contact": gettext_noop("the today page is for the housing contacts of a housing agency"),
    "task.assign_forbidden": gettext_noop(
        "only the agency's lead hands a task to a colleague, and only to someone who works in the agency"
    ),
    "incident.resolved": gettext_noop("the incident is already resolved"),
    "incident.failed_again": gettext_noop("the step failed again: %(error)s"),
    "incident.job_failed_again": gettext_noop("the job failed again: %(error)s"),
    "incident.not_about_data": gettext_noop("this incident is not about the data of a task: retry it instead"),
    "incident.nothing_waits": gettext_noop("no task of %(element)s waits for a retry"),
    "case.closed": gettext_noop("the case is closed"),
    "participant.withdraw_forbidden": gettext_noop("only the coordinator of the case may withdraw an agency from it"),
    "participant.coordinator_stays": gettext_noop("the coordinating agency cannot be withdrawn from its own case"),
    "participant.not_in_case": gettext_noop("choose an agency that takes part in the case"),
    "participant.invalid": gettext_noop("the withdrawal has errors"),
    "participant.open_tasks": gettext_noop(
        "%(agency)s still has open tasks in the case: %(tasks)s. They must be done before the agency is withdrawn"
    ),
    "participant.open_tasks_unseen": gettext_noop(
        "%(agency)s still has open tasks in the case that you do not see. They must be done before the agency is "
        "withdrawn"
    ),
    "participant.waiting_service_calls": gettext_noop(
        "the case still waits for an answer from the system of %(agency)s: %(steps)s. It must answer before the "
        "agency is withdrawn"
    ),
    "participant.open_external_tasks": gettext_noop(
        "the system of %(agency)s still has tasks to do in the case. They must be done before the agency is withdrawn"
    ),
    "consent.already_revoked": gettext_noop("the consent is already revoked"),
    "external_task.not_found": gettext_noop("no such external task"),
    "external_task.not_locked": gettext_noop(
        "this worker does not hold the task's lock (it ran out, or another worker fetched the task)"
    ),
    "external_task.gone": gettext_noop("the task no longer waits (withdrawn, or the case ended)"),
    "external_task.done": gettext_noop("the task was completed already"),
    "external_task.failure_invalid": gettext_noop("the failure cannot be recorded"),
    "external_task.fetch_invalid": gettext_noop("the fetch cannot be made"),
    "service.answer_invalid": gettext_noop("the answer does not meet the task's form"),
    "process.called_invalid": gettext_noop("the called files cannot be read"),
    "process.called_entry": gettext_noop("each called file needs a filename and its BPMN text"),
    "process.routing_users_invalid": gettext_noop("the routing map names users who cannot be given tasks"),
    "process.routing_user_not_assignable": gettext_noop(
        "you cannot hand the assignee's tasks (%(kinds)s) to this user: only a lead or coordinator hands "
        "tasks to a named colleague, in an agency they lead. Name a user who works cases in an agency of "
        "that kind that you lead, or remove the assignee from the routing map's users"
    ),
    "break_glass.already_reviewed": gettext_noop("this emergency access is already reviewed"),
    "break_glass.already_ended": gettext_noop("this emergency access has already ended"),
    "break_glass.case_closed": gettext_noop(
        "the case is closed: emergency access can only be opened while a case is open and being worked"
    ),
    "legal_basis.already_retired": gettext_noop("this legal basis is already retired"),
    "legal_basis.in_use": gettext_noop("consents rest on this legal basis, so it cannot be deleted: retire it instead"),
    "legal_basis.in_use_fixed": gettext_noop(
        "consents rest on this legal basis, so its law, paragraph and whether it is the person's consent cannot "
        "change: retire it and add the right one"
    ),
    "migration.forbidden": gettext_noop("only process admins move cases to another version"),
    "process_admin.works_cases": gettext_noop(
        "you work cases yourself: moving running cases and following up incidents show where each case stands, "
        "so they are for a process admin who works no cases"
    ),
    # a form or call sent without a valid CSRF token (``web.pages.csrf_failure``)
    "csrf.failed": gettext_noop(
        "The form was out of date, and nothing was saved. Open the page again and try once more."
    ),
    "migration.no_target": gettext_noop("the process has no such version to move to"),
    "migration.same_version": gettext_noop("the cases are on that version already"),
    "migration.preview_one_case": gettext_noop(
        "the preview counts the running cases of the version and shows none of them by itself: leave out case "
        "(moving one case with case stays)"
    ),
    # a number of cases in the migration preview that is hidden (``insight.migration_preview``)
    "migration.count.small": gettext_noop("fewer than %(limit)s"),
    "migration.count.complementary": gettext_noop("hidden"),
    # why a running case cannot move to another version (per element)
    "migration.reason.waiting-element-removed": gettext_noop(
        "the case waits on %(element)s, which the new version does not have"
    ),
    "migration.reason.finished-element-removed": gettext_noop(
        "the case has passed %(element)s, which the new version does not have"
    ),
    "migration.reason.subprocess-removed": gettext_noop(
        "the case runs the subprocess %(element)s, which the new version does not have"
    ),
    "migration.reason.not-aligned": gettext_noop(
        "%(element)s of the case cannot be matched with an element of the new version"
    ),
    "migration.reason.instance-has-incident": gettext_noop(
        "the case stopped on an incident: retry or resolve it first"
    ),
    "migration.reason.lane-without-participant": gettext_noop(
        "the new version routes %(element)s to an agency kind that does not take part in the case"
    ),
    "migration.reason.field-category-changed": gettext_noop(
        "the new version would show the field %(element)s to more agencies (another data category, or shared "
        "with every participant): values already recorded keep the category they were recorded under"
    ),
    "migration.reason.target-failed": gettext_noop(
        "the new version failed on the case as it was set up on it (a timer or an expression of the new version): "
        "the case stays on its version"
    ),
    "migration.reason.path-opened": gettext_noop(
        "the new version would show where %(element)s led to agencies the old version hid it from (its "
        "conditions or timer read other data): a case keeps the path the old version's data chose"
    ),
    "process.deploy_race": gettext_noop("another deploy of %(key)s happened at the same time; try again"),
    "draft.changed": gettext_noop("the draft was saved again after you opened it"),
    "message.ambiguous_correlation": gettext_noop(
        "the correlation key matches %(count)s cases; send the case reference"
    ),
    "message.several_start_processes": gettext_noop("several processes start on the message %(name)s: %(keys)s"),
    "message.task_still_open": gettext_noop(
        "a task an earlier message %(name)s opened in this case is still open, and this one brings nothing new: "
        "it is not delivered again"
    ),
    "idempotency.reused": gettext_noop("this %(header)s was already used for a different request"),
    "idempotency.in_progress": gettext_noop("a request with this %(header)s is in progress; try again"),
    # --- invalid input: summaries ---
    "form.invalid": gettext_noop("the form has errors"),
    "case.invalid": gettext_noop("the case cannot be started"),
    "case.unknown_process": gettext_noop("no process of the key given in process_key is deployed"),
    "case.process_starts_on_message": gettext_noop(
        "the process starts when the message %(name)s arrives: it is started by POST /api/v1/messages/ with `start`"
    ),
    "case.process_has_no_message_start": gettext_noop("the process has no message start event"),
    "case.data_invalid": gettext_noop("the start data is not valid"),
    "consent.invalid": gettext_noop("the consent is not valid"),
    "break_glass.invalid": gettext_noop("the emergency access cannot be opened"),
    "legal_basis.invalid": gettext_noop("the legal basis is not valid"),
    "message.invalid": gettext_noop("the message is not valid"),
    "message.start_required": gettext_noop("the message starts a case: give start"),
    "message.payload_invalid": gettext_noop("the message payload is not valid"),
    "message.sender_not_allowed": gettext_noop("your agency may not send the message %(name)s in this process"),
    "message.nothing_waits": gettext_noop("nothing in case %(reference)s waits for the message given in name now"),
    "message.no_start_process": gettext_noop("no process starts on the message given in name"),
    "message.name_waits_nowhere": gettext_noop("nothing waits for this message now"),
    "message.name_task_still_open": gettext_noop("the task this message opened earlier is still open"),
    "message.name_starts_nothing": gettext_noop("no process starts on this message"),
    "process.forms_invalid": gettext_noop("forms must map file names to JSON schemas"),
    "process.not_utf8": gettext_noop("the BPMN file is not UTF-8: save it as UTF-8 in the modeler and deploy it again"),
    "process.model_refused": gettext_noop("the BPMN model was refused"),
    # --- why the editor's form preview refuses a form (bpmn.registry.form_problems)
    "form_problem.remote-ref": gettext_noop(
        "“%(place)s” of the form has a $ref to another file or address, which the server never fetches; "
        "refer only to the form's own parts (such as #/$defs/address)"
    ),
    "form_problem.invalid-ref": gettext_noop(
        "“%(place)s” of the form has a $ref to an anchor; refer to a part of the form by its JSON "
        "pointer (such as #/$defs/address)"
    ),
    "form_problem.embedded-id": gettext_noop('“%(place)s” of the form has a "$id"; only the form itself may have one'),
    "form_problem.invalid-pattern": gettext_noop(
        "“%(place)s” of the form has a pattern that cannot be checked in linear time; write a regular "
        "expression without backreferences or lookaround (and use additionalProperties, not "
        "unevaluatedProperties with patternProperties)"
    ),
    "form_problem.unresolvable-ref": gettext_noop(
        "“%(place)s” of the form has a $ref that points at nothing in the form; add the definition to "
        "$defs or correct the reference"
    ),
    "form_problem.recursive-ref": gettext_noop(
        "“%(place)s” of the form has a $ref that leads back to itself; a form may not refer to itself or "
        "to a part that contains the reference"
    ),
    "form_problem.schema-too-deep": gettext_noop(
        "“%(place)s” of the form makes validation go deeper than a form may, references followed; refer "
        "to the part you mean directly instead of through a chain of references, and nest less"
    ),
    "form_problem.ref-fanout": gettext_noop(
        "“%(place)s” of the form has a $ref that, followed through the references below it, makes too "
        "many schemas to check for one value; refer to each part directly instead of through parts that "
        "repeat it"
    ),
    # --- a BPMN model the engine refuses: the text of each issue (bpmn.issues.message_code),
    # ``model.<code>`` or ``model.<code>.<variant>`` of ``bpmn.engine.errors.ISSUE_CODES``.
    # Params: ``element`` (its id, or the file's name), ``file``, and the issue's own.
    "model.too-large": gettext_noop(
        "the file “%(file)s” is larger than %(limit_mib)s MiB; split the model into called processes or "
        "remove embedded images and documentation"
    ),
    "model.doctype": gettext_noop(
        "the file “%(file)s” declares a document type or entities (DOCTYPE or ENTITY), which a BPMN "
        "model may not: they can read local files or grow without limit; remove the declaration"
    ),
    "model.not-well-formed.empty": gettext_noop("the file “%(file)s” is empty; upload the BPMN file itself"),
    "model.not-well-formed.syntax": gettext_noop(
        "the file “%(file)s” is not well-formed XML (the parser says: “%(detail)s”); correct the file or "
        "export it again from the modeler, and upload it again"
    ),
    "model.wrong-namespace": gettext_noop(
        "the root element of “%(file)s” is “%(root)s” outside the BPMN 2.0 namespace, not BPMN 2.0's "
        "definitions; save the model as BPMN 2.0 XML (a DMN decision table is not a process: call it from a "
        "business rule task of a BPMN model instead)"
    ),
    "model.no-executable-process.no-process": gettext_noop(
        'the file “%(file)s” has no process; Brobygger needs one process marked as executable (isExecutable="true")'
    ),
    "model.no-executable-process.none-executable": gettext_noop(
        'no process in the file is executable (%(processes)s: marked isExecutable="false", descriptive '
        'models only); set isExecutable="true" on the process Brobygger should run'
    ),
    "model.no-executable-process.all-called": gettext_noop(
        "every executable process in the file (%(processes)s) is called by a call activity, so none of "
        "them is the process a case starts; Brobygger deploys one top-level process per file"
    ),
    "model.several-executable-processes.no-collaboration": gettext_noop(
        "the file has several executable top-level processes (%(processes)s) and no collaboration that "
        "has them all as pools; draw them as pools of one collaboration, or mark all but one "
        'isExecutable="false"'
    ),
    "model.several-executable-processes.undeclared-pool": gettext_noop(
        "the process “%(process)s” of the collaboration “%(collaboration)s” does not say whether it is "
        'executable, while the other pools do; mark it isExecutable="true" or "false"'
    ),
    "model.missing-called-process": gettext_noop(
        "the call activity “%(element)s” calls the process “%(process)s”, which is not in the file; "
        "deploy the file that defines it together with the model, or put the called process in the same "
        "file"
    ),
    "model.recursive-call-activity.self": gettext_noop(
        "the call activity “%(element)s” calls its own process “%(process)s”, which would start itself "
        "again without end; call another process, or draw a loop back to an earlier task instead"
    ),
    "model.recursive-call-activity.mutual": gettext_noop(
        "the call activity “%(element)s” calls the process “%(called)s”, which calls back into the "
        "process “%(process)s”; recursive calls have no bound: remove one of the calls, or draw a loop "
        "back to an earlier task instead"
    ),
    "model.called-duplicate-id": gettext_noop(
        "the id “%(element)s” is used in “%(other_file)s” and in “%(file)s”, which are deployed together; "
        "give one of them another id: ids must be unique across a model and the files it calls, "
        "only start events, end events and lanes may share one"
    ),
    "model.duplicate-id": gettext_noop(
        "the id “%(element)s” is used twice (the other at line %(other_line)s); give one of them another "
        "id: every id in the file must be unique"
    ),
    "model.reserved-id": gettext_noop(
        "“%(element)s” is an id SpiffWorkflow uses for its own internal steps, so the element would be "
        "silently replaced; rename it (for example StartEvent_1)"
    ),
    "model.dangling-flow.no-end": gettext_noop(
        "the sequence flow “%(element)s” has no %(attribute)s; connect both its ends to elements of its "
        "process or sub-process"
    ),
    "model.dangling-flow.unknown": gettext_noop(
        "the sequence flow “%(element)s” has the %(attribute)s “%(ref)s”, but there is no element with "
        "that id in its process or sub-process; connect it to an element there"
    ),
    "model.dangling-flow.not-a-node": gettext_noop(
        "the sequence flow “%(element)s” has the %(attribute)s “%(ref)s”, which is not a task, event or "
        "gateway; connect it to a task, event or gateway"
    ),
    "model.dangling-flow.other-container": gettext_noop(
        "the sequence flow “%(element)s” has the %(attribute)s “%(ref)s”, which is in another process or "
        "sub-process; a sequence flow cannot leave its process or sub-process: draw it inside one, or "
        "use a message between pools or an event that ends the sub-process"
    ),
    "model.invalid-default-flow.unknown": gettext_noop(
        "“%(element)s” names “%(flow)s” as its default flow, but there is no sequence flow with that id "
        "next to it; choose one of its outgoing flows as the default"
    ),
    "model.invalid-default-flow.not-outgoing": gettext_noop(
        "“%(element)s” names “%(flow)s” as its default flow, but that sequence flow does not leave "
        "“%(element)s”; choose one of its outgoing flows as the default"
    ),
    "model.missing-default-flow": gettext_noop(
        "the gateway “%(element)s” has %(flows)s outgoing flows but no default flow; mark one flow as "
        "the default so that the case never gets stuck when no condition holds"
    ),
    "model.missing-condition": gettext_noop(
        "the sequence flow “%(element)s” leaves the gateway “%(gateway)s” without a condition; give it a "
        "condition, or make it the gateway's default flow"
    ),
    "model.invalid-condition.empty": gettext_noop(
        "the sequence flow “%(element)s” has an empty condition; write the condition or remove it"
    ),
    "model.invalid-condition.syntax": gettext_noop(
        "the condition of the sequence flow “%(element)s” is not a valid expression (Python says: "
        "“%(detail)s”); write it as a Python expression over the case's fields, such as approved == True "
        "(Camunda's ${...}, JUEL and FEEL are not understood)"
    ),
    "model.unbounded-loop.cycle": gettext_noop(
        "the sequence flows loop through %(path)s without a wait state (a user task, manual task, "
        "receive task, catching event or event-based gateway); the case would spin without a person in "
        "the loop"
    ),
    "model.unbounded-loop.no-maximum": gettext_noop(
        "“%(element)s” repeats (standard loop) without loopMaximum; set loopMaximum to bound the number of rounds"
    ),
    "model.unbounded-loop.bad-maximum": gettext_noop(
        "“%(element)s” has the loopMaximum “%(maximum)s”, which is not a positive whole number; write a "
        "whole number of rounds, 1 or more"
    ),
    "model.invalid-expression": gettext_noop(
        "the %(tag)s of “%(element)s” is not a valid expression (Python says: “%(detail)s”); write it as "
        "a Python expression over the case's fields, such as approved == True (Camunda's ${...}, JUEL "
        "and FEEL are not understood)"
    ),
    "model.unsafe-expression": gettext_noop(
        "the %(tag)s of “%(element)s” uses what the restricted environment does not allow "
        "(“%(detail)s”); use only the case's fields, plain operators and the allowed functions"
    ),
    "model.invalid-script": gettext_noop(
        "the script of “%(element)s” is not valid Python at its line %(script_line)s (Python says: "
        "“%(detail)s”); correct the script in the task's Script field"
    ),
    "model.unsafe-script": gettext_noop(
        "the script of “%(element)s” uses what the restricted environment does not allow (“%(detail)s”); "
        "use only the case's fields, plain statements and the allowed functions"
    ),
    "model.missing-script": gettext_noop(
        "the script task “%(element)s” has no script written in it (an external resource is not loaded); "
        "write the script into the task (its Script field), or make the task a user or manual task"
    ),
    "model.empty-timer": gettext_noop(
        "the timer “%(element)s” has no time to wait for; give a timeDate, timeDuration or timeCycle"
    ),
    "model.invalid-timer.several": gettext_noop(
        "the timer “%(element)s” has more than one time specification (%(found)s); give one"
    ),
    "model.invalid-timer.value": gettext_noop(
        "the timer “%(element)s” has the %(kind)s “%(value)s”, which is neither an ISO-8601 value nor a "
        "valid expression; write a time such as P14D, 2026-12-01T09:00:00+01:00 or R3/P30D (a cron "
        "expression is not understood)"
    ),
    "model.naive-timer-date": gettext_noop(
        "the timer “%(element)s” has a date and time without a time zone; add the offset, such as "
        "2026-12-01T09:00:00+01:00"
    ),
    "model.timer-date-out-of-range": gettext_noop(
        "the timer “%(element)s” has the %(kind)s “%(value)s”, a date outside %(minimum)s to %(maximum)s, the "
        "dates a timer may have; write a date in that range"
    ),
    "model.unbounded-timer-cycle": gettext_noop(
        "the timer “%(element)s” repeats without end; give the number of repetitions, such as R3/P30D"
    ),
    "model.long-timer-cycle": gettext_noop(
        "the timer “%(element)s” repeats more than 52 times; every round leaves tasks in the case's "
        "state, so a cycle runs at most 52 times"
    ),
    "model.timer-start-event": gettext_noop(
        "the start event “%(element)s” waits for a timer, which Brobygger does not run; a case starts "
        "when someone starts it: use a plain start event"
    ),
    "model.message-start-event": gettext_noop(
        "the start event “%(element)s” waits for a message, but the process has other start events too; "
        "a process that starts with a message has that start event only"
    ),
    "model.interrupting-event-subprocess": gettext_noop(
        "the start event “%(element)s” of an event sub-process interrupts the process, which Brobygger "
        'does not run; mark it non-interrupting (isInterrupting="false")'
    ),
    "model.unknown-lane.unknown": gettext_noop(
        "the lane “%(element)s” is named “%(lane)s”, which is not a known agency; name the lane after an "
        "agency (NAV, Helse, Boligkontakt, Kriminalomsorgen, Sykehus, Kommune), or add one of these to "
        "the routing map at import: %(entries)s (an agency kind is one of %(kinds)s)"
    ),
    "model.unknown-lane.unnamed": gettext_noop(
        "the lane “%(element)s” has no name, and tasks are routed by the lane name; name the lane after "
        "its agency, or add one of these to the routing map at import: %(entries)s (an agency kind is "
        "one of %(kinds)s)"
    ),
    "model.unknown-group": gettext_noop(
        "the task “%(element)s” is for %(who)s, which is not an agency kind; add one of these to the "
        "routing map at import: %(entries)s (an agency kind is one of %(kinds)s), or put the task in the "
        "lane of its agency"
    ),
    "model.task-without-lane": gettext_noop(
        "the task “%(element)s” is in the process “%(process)s”, which has lanes, but in none of them; "
        "put it in the lane of the agency that does it, or add one of these to the routing map at "
        "import: %(entries)s"
    ),
    "model.no-lanes": gettext_noop(
        "the process “%(element)s” has tasks that wait for a person (%(tasks)s), but no lane, candidate "
        "group or assignee says which agency does them; put each task in a lane named after its agency, "
        "or add one of these to the routing map at import: %(entries)s"
    ),
    "model.unrouted-task": gettext_noop(
        "the external task “%(element)s” (topic “%(topic)s”) is fetched by the agency it is routed to, "
        "and nothing routes it; put it in the lane of its agency, or add one of these to the routing map "
        "at import: %(entries)s"
    ),
    "model.unrouted-connector": gettext_noop(
        "the service task “%(element)s” sends case data through the connector “%(connector)s” to the "
        "system of the agency it is routed to, and nothing routes it, so no agency's sharing rules or "
        "consents decide what may leave; put it in the lane of the agency whose system answers, or add one "
        "of these to the routing map at import: %(entries)s"
    ),
    "model.invalid-lane-map": gettext_noop(
        "the routing map is not as it should be: it is an object with lanes, pools, groups and assignees "
        "(each name -> agency kind), users (assignee -> user name) and default (an agency kind)"
    ),
    "model.unknown-lane-kind": gettext_noop(
        "the routing map sends “%(name)s” to “%(kind)s”, which is not an agency kind; use one of %(kinds)s"
    ),
    "model.message-senders-missing": gettext_noop(
        "the message “%(name)s” (“%(element)s”) does not say which agency kinds may send it; give its "
        "sender property the agency kinds (%(kinds)s), comma-separated"
    ),
    "model.message-sender-unknown": gettext_noop(
        "the message “%(name)s” (“%(element)s”) names the sender “%(sender)s”, which is not an agency "
        "kind; use %(kinds)s"
    ),
    "model.message-field-unknown": gettext_noop(
        "the message “%(name)s” (“%(element)s”) declares the field “%(field)s”, which no form of the "
        "process has; a message writes only fields of the process's forms"
    ),
    "model.missing-form.empty": gettext_noop(
        "“%(element)s” has an empty “%(property)s”; name the form file or remove the property"
    ),
    "model.missing-form.not-deployed": gettext_noop(
        "“%(element)s” uses the form “%(form)s”, which was not deployed with the model (forms given: "
        "%(given)s); add the form to the model's forms, or remove the property"
    ),
    "model.invalid-form": gettext_noop(
        "the form “%(form)s” of “%(element)s” is not a valid JSON Schema (draft 2020-12) object with "
        '"type": "object" and "properties"; correct the form'
    ),
    "model.invalid-category": gettext_noop(
        "the form “%(form)s” of “%(element)s” gives a field an x-category that is not a data category; "
        "use one of the data categories, or leave x-category out to keep the field restricted"
    ),
    "model.nested-category": gettext_noop(
        "the form “%(form)s” of “%(element)s” gives a part of the field “%(field)s” a data category of its "
        "own; a category belongs to a whole field, and the part would be shown as the field is: make the "
        "part a field of its own with its category, or give the field the category of its most sensitive part"
    ),
    "model.form-level-category": gettext_noop(
        "the form “%(form)s” of “%(element)s” gives the field “%(field)s” a data category beside the field's "
        "own property (in allOf, anyOf, oneOf, if/then/else, dependentSchemas, patternProperties or "
        "additionalProperties of the form); a field's category is read from its own property only: write "
        "x-category on the field in “properties”"
    ),
    "model.invalid-share.value": gettext_noop(
        "the form “%(form)s” of “%(element)s” gives a field an x-share that is not allowed; the only "
        'value is "participants" (every participating agency sees the field)'
    ),
    "model.invalid-share.category": gettext_noop(
        "the form “%(form)s” of “%(element)s” shares a field with every participant that is not of the "
        "category justice; only the release date and the housing conditions of parole may be shared so, "
        "other data goes to another agency with the person's consent or a legal basis"
    ),
    "model.invalid-valid-days.value": gettext_noop(
        "the form “%(form)s” of “%(element)s” gives the field “%(field)s” an x-valid-days that is not a whole "
        "number of days from 1 to 3660; give the number of days its safety warning is shown"
    ),
    "model.invalid-valid-days.category": gettext_noop(
        "the form “%(form)s” of “%(element)s” gives the field “%(field)s” x-valid-days, but it is not of the "
        "category safety; only a safety warning lapses"
    ),
    "model.invalid-outcome-role": gettext_noop(
        "the form “%(form)s” of “%(element)s” marks its outcome fields wrongly: give each field one "
        'x-outcome role, each role to one field, and mark a text field as "kind"'
    ),
    "model.invalid-enum-labels": gettext_noop(
        "the form “%(form)s” of “%(element)s” has x-enum-labels that are not texts for the field's own "
        "choices; give a text for each choice the field's enum has"
    ),
    "model.invalid-date-range": gettext_noop(
        "the form “%(form)s” of “%(element)s” gives the field “%(field)s” a formatMinimum or formatMaximum that "
        "is not an ISO date such as 1900-01-01, or a formatMinimum after its formatMaximum; write the first and "
        "the last date the field accepts, or leave them out for 1900-01-01 to 2199-12-31"
    ),
    "model.invalid-field-format.type": gettext_noop(
        "the form “%(form)s” of “%(element)s” gives the field “%(field)s” the format of a date or time but "
        'not the type "string", so the format is ignored; write "type": "string" for a date or time field'
    ),
    "model.invalid-field-format.spelling": gettext_noop(
        "the form “%(form)s” of “%(element)s” gives the field “%(field)s” a format that is spelled wrongly, "
        'so the field would take any text; write "date", "date-time" or "time"'
    ),
    "model.invalid-field-schema": gettext_noop(
        "the form “%(form)s” of “%(element)s” gives the field “%(field)s” the schema true or false, not an "
        'object with the field\'s type; write the field as an object such as {"type": "string"}, or remove it'
    ),
    "model.invalid-inherit": gettext_noop(
        "the form “%(form)s” of “%(element)s” has an x-inherit that is not a list of field names; list "
        "the fields of the earlier case to take the value from"
    ),
    "model.invalid-pattern": gettext_noop(
        "the form “%(form)s” of “%(element)s” has a pattern at “%(place)s” that cannot be checked in "
        "linear time; write a regular expression without backreferences or lookaround (and use "
        "additionalProperties, not unevaluatedProperties with patternProperties)"
    ),
    "model.remote-ref": gettext_noop(
        "the form “%(form)s” of “%(element)s” has a $ref at “%(place)s” to another file or address, "
        "which the server never fetches; refer only to the form's own parts (such as #/$defs/address)"
    ),
    "model.invalid-ref": gettext_noop(
        "the form “%(form)s” of “%(element)s” has a $ref at “%(place)s” to an anchor; refer to a part of "
        "the form by its JSON pointer (such as #/$defs/address)"
    ),
    "model.unresolvable-ref": gettext_noop(
        "the form “%(form)s” of “%(element)s” has a $ref at “%(place)s” that points at nothing in the "
        "form; add the definition to $defs or correct the reference"
    ),
    "model.recursive-ref": gettext_noop(
        "the form “%(form)s” of “%(element)s” has a $ref at “%(place)s” that leads back to itself; a "
        "form may not refer to itself or to a part that contains the reference"
    ),
    "model.ref-fanout": gettext_noop(
        "the form “%(form)s” of “%(element)s” has a $ref at “%(place)s” that, followed through the "
        "references below it, makes too many schemas to check for one value; refer to each part "
        "directly instead of through parts that repeat it"
    ),
    "model.schema-too-deep": gettext_noop(
        "the form “%(form)s” of “%(element)s” at “%(place)s” makes validation go deeper than a form may, "
        "references followed; refer to the part you mean directly instead of through a chain of "
        "references, and nest less"
    ),
    "model.embedded-id": gettext_noop(
        'the form “%(form)s” of “%(element)s” has a "$id" at “%(place)s”; only the form itself may have one'
    ),
    "model.conflicting-category": gettext_noop(
        "the field “%(field)s” has another data category in another form than %(category)s in the form "
        "“%(form)s”; a field has one data category in every form"
    ),
    "model.invalid-due-in": gettext_noop(
        "“%(element)s” has the dueIn “%(due_in)s”, which is not an ISO-8601 duration such as P5D or PT4H"
    ),
    "model.unsupported": gettext_noop(
        "SpiffWorkflow cannot read the file “%(file)s” (“%(detail)s”); remove the construct it names, or "
        "export the model again as plain BPMN 2.0"
    ),
    "model.bpmn-invalid.one-start-event": gettext_noop(
        "SpiffWorkflow refuses “%(element)s” (“%(detail)s”); give the sub-process exactly one plain start event"
    ),
    "model.bpmn-invalid.no-start-event": gettext_noop(
        "SpiffWorkflow refuses “%(element)s” (“%(detail)s”); give the process a start event"
    ),
    "model.bpmn-invalid.several-outgoing": gettext_noop(
        "SpiffWorkflow refuses “%(element)s” (“%(detail)s”); draw one flow out of the task to a gateway that splits it"
    ),
    "model.bpmn-invalid.multi-instance-both": gettext_noop(
        "SpiffWorkflow refuses “%(element)s” (“%(detail)s”); keep only one of the loop cardinality and "
        "the input collection (loopDataInputRef)"
    ),
    "model.bpmn-invalid.multi-instance-none": gettext_noop(
        "SpiffWorkflow refuses “%(element)s” (“%(detail)s”); give the multi-instance task a loop "
        "cardinality or an input collection (loopDataInputRef)"
    ),
    "model.bpmn-invalid.dmn": gettext_noop(
        "SpiffWorkflow refuses “%(element)s” (“%(detail)s”); replace the business rule task by an "
        "exclusive gateway with conditions or a script task (Brobygger does not run DMN decision tables)"
    ),
    "model.bpmn-invalid.no-called-element": gettext_noop(
        "SpiffWorkflow refuses “%(element)s” (“%(detail)s”); set calledElement to the id of the process "
        "the call activity starts"
    ),
    "model.bpmn-invalid.data-store": gettext_noop(
        "SpiffWorkflow refuses “%(element)s” (“%(detail)s”); remove the data store and keep the data in "
        "the case's fields (a data object)"
    ),
    "model.bpmn-invalid.service-task": gettext_noop(
        "the service task “%(element)s” has no implementation Brobygger runs; give it "
        'camunda:type="external" and a camunda:topic (an external task the agency\'s system fetches), a '
        "camunda:connector with a connectorId, or a spiffworkflow:serviceTaskOperator naming a connector "
        "(Java classes, delegates and plain expressions are not run)"
    ),
    "model.bpmn-invalid.service-task-topic": gettext_noop(
        "the external service task “%(element)s” has no valid camunda:topic; give it a topic of letters, "
        "digits and the signs ._:/-"
    ),
    "model.bpmn-invalid.other": gettext_noop(
        "SpiffWorkflow refuses “%(element)s” (“%(detail)s”); correct the element in the modeler: "
        "SpiffWorkflow, which runs the model, refuses it as it is"
    ),
    "draft.malformed": gettext_noop("the draft is not well-formed"),
    "draft.bad_base": gettext_noop("base must be the time the draft was saved (ISO 8601)"),
    "draft.bad_key": gettext_noop("the key must be text"),
    "body.not_json_object": gettext_noop("the body is not a JSON object"),
    "incident.data_invalid": gettext_noop("the data cannot be set"),
    "incident.field_not_needed": gettext_noop(
        "%(element)s does not read or declare this field: only the data the failed element needs can be set"
    ),
    "body.too_deep": gettext_noop("the body is nested too deeply"),
    "query.invalid": gettext_noop("the list does not read a parameter as it was given"),
    "request.unstorable_text": gettext_noop("the request has text that cannot be stored or is nested too deeply"),
    "request.unreadable": gettext_noop(
        "the request cannot be read: its form or upload is broken, has too many fields or is too large"
    ),
    "request.unsupported_media_type": gettext_noop("this route reads a JSON body: send it as application/json"),
    "request.throttled": gettext_noop("too many requests from this user: wait %(seconds)s s and try again"),
    "request.concurrent_change": gettext_noop(
        "another change came at the same moment and this one was not saved: try again"
    ),
    "request.method_not_allowed": gettext_noop("this route does not take the request's method; it takes %(allowed)s"),
    "request.not_acceptable": gettext_noop(
        "cannot answer in the format the Accept header asks for; this route answers in %(types)s"
    ),
    "data.over_limits": gettext_noop(
        "the data breaks a limit (nesting, size, length of a text) or has text that cannot be stored"
    ),
    "draft.model_too_large": gettext_noop("the model is larger than the %(limit)s bytes deploy accepts"),
    "idempotency.bad_key": gettext_noop("the %(header)s header must have 1 to %(limit)s characters"),
    # --- per field ---
    "query.unknown_parameter": gettext_noop("this list has no such parameter; it reads %(known)s"),
    "query.repeated_parameter": gettext_noop("given more than once; give it once"),
    "field.required": gettext_noop("this field is required"),
    "field.expected_object": gettext_noop("expected an object"),
    "field.expected_objects": gettext_noop("expected an object of objects"),
    "field.expected_text": gettext_noop("expected text"),
    "field.expected_nonempty_text": gettext_noop("expected a non-empty text of at most %(limit)s characters"),
    "field.too_long": gettext_noop("at most %(limit)s characters"),
    "field.too_deep": gettext_noop("is nested more than %(limit)s levels deep"),
    "field.too_large": gettext_noop("is larger than %(limit)s bytes as JSON"),
    "field.nul": gettext_noop("contains a NUL character (U+0000), which cannot be stored"),
    "field.surrogate": gettext_noop("contains half of a UTF-16 surrogate pair (U+D800 to U+DFFF), which is not text"),
    "field.not_finite": gettext_noop("is not a finite number"),
    # DRF's own checks of a field (``api.field_errors``): one code per kind of problem.
    "field.null": gettext_noop("this field may not be null"),
    "field.blank": gettext_noop("this field may not be empty"),
    "field.empty": gettext_noop("may not be empty"),
    "field.invalid": gettext_noop("the value is not valid"),
    "field.invalid_choice": gettext_noop("not one of the allowed choices"),
    "field.does_not_exist": gettext_noop("no such object"),
    "field.expected_id": gettext_noop("expected an id (a whole number)"),
    "field.expected_integer": gettext_noop("expected a whole number"),
    "field.expected_number": gettext_noop("expected a number"),
    "field.expected_date": gettext_noop("expected an ISO 8601 date (YYYY-MM-DD)"),
    "field.expected_uuid": gettext_noop("expected a UUID"),
    "field.expected_file": gettext_noop("expected a file, sent as multipart/form-data"),
    "field.pattern": gettext_noop("does not have the expected form"),
    "field.max_value": gettext_noop("must be at most %(limit)s"),
    "field.min_value": gettext_noop("must be at least %(limit)s"),
    "field.out_of_range": gettext_noop("the number or time is out of range"),
    "field.too_short": gettext_noop("at least %(limit)s characters"),
    "field.too_many_items": gettext_noop("too many items: at most %(limit)s"),
    "field.too_few_items": gettext_noop("too few items: at least %(limit)s"),
    "field.empty_list": gettext_noop("give at least one item"),
    "field.no_file": gettext_noop("no file was sent"),
    "field.empty_file": gettext_noop("the file is empty"),
    "field.file_name_too_long": gettext_noop("the file name has more than %(limit)s characters"),
    "body.unreadable": gettext_noop("the body cannot be read"),
    "body.not_json": gettext_noop("the body is not valid JSON (line %(line)s, column %(column)s)"),
    "body.bad_encoding": gettext_noop("the body is not valid %(encoding)s text"),
    "body.too_large": gettext_noop("the request body is too large: at most %(limit)s bytes are accepted"),
    "query.invalid_page_size": gettext_noop("must be a whole number from 1 and up"),
    "query.invalid_cursor": gettext_noop(
        "the cursor is invalid or belongs to another list: start from the list's first page"
    ),
    "external_task.too_many_topics": gettext_noop("name at most %(limit)s topics in one fetch"),
    "sign_in.refused": gettext_noop("unable to log in with the given username and password"),
    "sign_in.otp_not_set_up": gettext_noop("set up two-factor sign-in in the web app first"),
    "sign_in.otp_required": gettext_noop("a one-time code from your authenticator app is required"),
    "sign_in.otp_wrong": gettext_noop("the one-time code is wrong or has expired"),
    "form.unusable": gettext_noop(
        "this form cannot be used: it fails the checks every form must pass; a process admin must deploy a "
        "corrected version"
    ),
    "field.expected_nonempty_object": gettext_noop("expected a non-empty object"),
    "field.identifier": gettext_noop("a field name is a Python identifier (letters, digits, _)"),
    "field.too_many_fields": gettext_noop("at most %(limit)s fields at once"),
    "field.expected_json": gettext_noop("values must be JSON"),
    "field.unknown_in_form": gettext_noop("unknown field; this form has: %(fields)s"),
    "field.not_in_start_form": gettext_noop("a case start may not write this field: it is not in the start form"),
    "message.field_not_declared": gettext_noop("the message may not write this field: the model does not declare it"),
    "field.task_has_no_form": gettext_noop("this task has no form; it takes no data"),
    "field.expected_form_object": gettext_noop("must be an object of form fields"),
    "field.expected_datetime": gettext_noop("expected an ISO 8601 date-time"),
    "field.needs_timezone": gettext_noop("give a time zone (e.g. +01:00)"),
    "field.must_be_future": gettext_noop("must be in the future"),
    "field.date_too_late": gettext_noop("must be a date no later than %(maximum)s"),
    "field.expected_iso_datetime": gettext_noop("expected an ISO 8601 date and time"),
    "field.bpmn_text": gettext_noop("give the BPMN XML as text"),
    "field.not_utf8": gettext_noop("the file is not valid UTF-8"),
    "field.lane_map": gettext_noop("expected lane names mapped to agency kinds"),
    "field.routing_map": gettext_noop(
        "expected an object: lanes, pools, groups, assignees (name -> agency kind) and default"
    ),
    "field.new_key": gettext_noop("use a new key for a new request"),
    "insight.invalid_filter": gettext_noop("the filter is not valid"),
    "insight.unknown_choice": gettext_noop("choose one of the values in the list"),
    "insight.group_too_small": gettext_noop(
        "this choice narrows the figures to fewer than %(limit)s: choose a wider one"
    ),
    "insight.group_hidden": gettext_noop(
        "the table hides how many this choice counts, so it cannot be shown on its own: choose a wider one"
    ),
    "field.invalid_key": gettext_noop("invalid key"),
    "outcome.unknown_kind": gettext_noop("choose one of the outcome kinds in the list"),
    "outcome.tenure_without_home": gettext_noop(
        "give the form of tenure only for an outcome where the person has a home"
    ),
    "outcome.housed_before_referral": gettext_noop("the date moved in cannot be before the referral date"),
    "case.unknown_process_field": gettext_noop("unknown process"),
    "consent.categories_invalid": gettext_noop("a list of data categories is expected"),
    "case.not_a_follow_on": gettext_noop("this process takes nothing over from an earlier case"),
    "case.follow_on_open": gettext_noop(
        "this case already has an open next case of this process: work on in that case, or close it first"
    ),
    "case.responsible_not_contact": gettext_noop("the responsible must be a housing contact of %(agency)s"),
    "case.responsible_chosen_by_housing": gettext_noop("only the case's housing agency chooses who is responsible"),
    "case.correlation_key_taken": gettext_noop("a running case already has this correlation key"),
    "agency.unknown_kind": gettext_noop("unknown agency kind; use one of %(kinds)s"),
    "agency.not_found": gettext_noop("no agency has this id; choose one of the agencies"),
    "agency.wrong_kind": gettext_noop("%(agency)s is not an agency of the kind %(kind)s"),
    "agency.routed_needs_participant": gettext_noop(
        "the process routes tasks here (%(names)s): an agency of this kind must take part"
    ),
    "consent.agency_or_kind": gettext_noop("choose the agency that receives the data"),
    "consent.agency_not_participating": gettext_noop("this agency does not take part in the case"),
    "consent.no_agency_of_kind": gettext_noop("no agency of this kind takes part in the case"),
    "consent.categories_required": gettext_noop("choose at least one category"),
    "consent.unknown_category": gettext_noop("unknown category; use one of %(choices)s"),
    "consent.unknown_legal_basis": gettext_noop("choose a legal basis from the list"),
    "legal_basis.duplicate": gettext_noop("this law already has a legal basis with this paragraph"),
    "legal_basis.categories_required": gettext_noop("choose at least one data category it covers"),
    "legal_basis.unknown_category": gettext_noop("choose among the categories a consent can share: %(choices)s"),
    "legal_basis.kinds_required": gettext_noop("choose at least one kind of agency that may receive data"),
    "legal_basis.unknown_kind": gettext_noop("choose among the agency kinds: %(choices)s"),
    "field.expected_boolean": gettext_noop("expected true or false"),
    "field.unknown": gettext_noop("unknown field"),
    "field.unknown_allowed": gettext_noop("unknown field; allowed: %(allowed)s"),
    "field.unknown_none": gettext_noop("unknown field; this request takes no fields"),
    "field.expected_list": gettext_noop("expected a list"),
    "field.expected_whole_number": gettext_noop("expected a whole number from %(low)s to %(high)s"),
    "break_glass.reason_too_short": gettext_noop(
        "write the danger to life or health you avert, in at least %(limit)s characters"
    ),
    "break_glass.category_not_masked": gettext_noop("choose a category of this case that is masked for you"),
    "consent.basis_not_for_kind": gettext_noop("this legal basis does not cover agencies of the kind %(kind)s"),
    "consent.basis_not_for_category": gettext_noop("this legal basis does not cover %(category)s data"),
    "consent.category_open": gettext_noop("%(category)s data is shared with every participant without consent"),
    "consent.category_not_needed": gettext_noop(
        "%(category)s data is not something the receiving agency needs to know in this process"
    ),
    "message.name_required": gettext_noop("the message name is required (at most 200 characters)"),
    "message.reference_or_key": gettext_noop("give either case_reference or correlation_key"),
    "message.names_or_starts": gettext_noop("a message either names its case or starts one, not both"),
    "message.start_fields": gettext_noop("unknown field; allowed: person, participants"),
    "message.give_start": gettext_noop(
        "the message %(name)s starts a case of %(key)s: give start "
        "{person: {name, national_id}, participants: {kind: agency id}}"
    ),
    "message.give_reference": gettext_noop("give case_reference or correlation_key (or start)"),
    # --- national identity numbers (never the number itself) ---
    "national_id.not_text": gettext_noop("National identity number must be text."),
    "national_id.empty": gettext_noop("National identity number is empty; it must be 11 digits."),
    "national_id.not_digits": gettext_noop(
        "National identity number must contain only the digits 0-9 (spaces are ignored)."
    ),
    "national_id.length": gettext_noop("National identity number must be 11 digits, got %(count)s."),
    "national_id.check_digit_1": gettext_noop("National identity number is invalid: check digit 1 is wrong."),
    "national_id.check_digit_2": gettext_noop("National identity number is invalid: check digit 2 is wrong."),
    "national_id.bad_date": gettext_noop("National identity number is not a valid date of birth."),
    # --- form fields checked against their JSON schema (params from the schema, never the value) ---
    "schema.type": gettext_noop("expected %(type)s"),
    "schema.enum": gettext_noop("choose one of the options"),
    "schema.const": gettext_noop("this value is not allowed"),
    "schema.minimum": gettext_noop("must be at least %(limit)s"),
    "schema.maximum": gettext_noop("must be at most %(limit)s"),
    "schema.exclusiveMinimum": gettext_noop("must be more than %(limit)s"),
    "schema.exclusiveMaximum": gettext_noop("must be less than %(limit)s"),
    "schema.multipleOf": gettext_noop("must be a multiple of %(limit)s"),
    "schema.minLength": gettext_noop("must be at least %(limit)s characters"),
    "schema.maxLength": gettext_noop("must be at most %(limit)s characters"),
    "schema.pattern": gettext_noop("does not have the expected form"),
    "schema.format": gettext_noop("expected %(format)s"),
    "schema.date_range": gettext_noop("must be a date from %(minimum)s to %(maximum)s"),
    "schema.minItems": gettext_noop("choose at least %(limit)s"),
    "schema.maxItems": gettext_noop("choose at most %(limit)s"),
    "schema.uniqueItems": gettext_noop("each value may appear only once"),
    "schema.other": gettext_noop("the value is not valid"),
    "schema.too_costly": gettext_noop(
        "is too long or too large, with the rest of what was sent, to check against the form in the time "
        "allowed; send less"
    ),
    # --- conversions of posted web forms ---
    "input.yes_no": gettext_noop("choose yes or no"),
    "input.whole_number": gettext_noop("enter a whole number"),
    "input.number": gettext_noop("enter a number"),
    "input.time": gettext_noop("enter a time of day, such as 09:00"),
    # --- why a job failed (workflows.jobs): stored as a code with its params on the job and
    # its incident (``Message``), shown in the reader's language. ``detail`` is what another
    # system or the engine said (an HTTP library's, a script's error): quoted as it is.
    "job.message.nothing_waits": gettext_noop("no case waits for the message “%(name)s” with its correlation now"),
    "job.timer.step_failed": gettext_noop("the timer fired, but the step after it failed: %(detail)s"),
    "job.failed": gettext_noop("the job failed (%(error_class)s)"),
    "job.call_failed": gettext_noop("the call failed: %(detail)s"),
    "job.mail_refused": gettext_noop("the mail server refused the mail (%(error_class)s, reply %(codes)s)"),
    "job.unknown_kind": gettext_noop("unknown job kind “%(kind)s”"),
    "job.instance_gone": gettext_noop("the job's instance is gone"),
    "job.instance_not_running": gettext_noop("the instance no longer runs"),
    "job.task_no_longer_waits": gettext_noop("the service task no longer waits: %(detail)s"),
    "job.retry.instance_busy": gettext_noop("the timer could not be fired now (its instance is busy); try again"),
    "job.retry.not_run": gettext_noop("the job could not run now (another worker has it); try again"),
    "job.retry.not_failed": gettext_noop("the job is not failed any more (it was retried or is running)"),
    "job.webhook.bad_url": gettext_noop("the agency's webhook URL must start with https:// or http://"),
    "job.webhook.no_secret": gettext_noop(
        "the webhook of %(agency)s has no secret, so nothing was sent (a call signed without one could be forged "
        "by anybody): set a secret for the agency in the admin (Agencies), give it to the receiver, then retry"
    ),
    "job.webhook.refused": gettext_noop("webhook refused: %(reason)s"),
    # One text whatever made the address unreachable (``workflows.jobs.errors.unreachable``);
    # rows stored with a ``detail`` are said with this text too, without it.
    "job.webhook.unreachable": gettext_noop(
        "webhook unreachable: the address gave no HTTP answer (its host name may be unknown, or the connection "
        "refused, cut off or timed out); the server's log says which"
    ),
    "job.webhook.redirect": gettext_noop("webhook answered HTTP %(status)s (redirects are not followed)"),
    "job.webhook.http_status": gettext_noop("webhook answered HTTP %(status)s"),
    # The address guard of webhooks, service connectors and the archive endpoint alike.
    "job.address.no_url": gettext_noop("the URL must be http:// or https:// with a host"),
    "job.address.bad_port": gettext_noop("the URL's port must be a number from 1 to 65535"),
    "job.address.credentials": gettext_noop("the URL must not carry a user name or password"),
    "job.address.plain_http": gettext_noop(
        "the host is public: the URL must be https:// (http:// only to an internal network %(setting)s lists)"
    ),
    "job.address.unresolved": gettext_noop("the host does not resolve (%(detail)s)"),
    # Names no address (rows stored with one are said without it): the server's log does.
    "job.address.not_public": gettext_noop(
        "the host resolves to a non-public address; %(setting)s lists the internal networks that may be called"
    ),
    "job.service.no_connector": gettext_noop(
        "no active service connector named “%(target)s”: add it in the admin (Service connectors)"
    ),
    "job.service.unrouted": gettext_noop(
        "service task “%(element)s” is routed to no agency, so no agency's sharing rules or consents decide what "
        "the connector “%(connector)s” may send; nothing was sent. Put the task in the lane of the agency whose "
        "system answers, deploy the model again and move the case to the new version"
    ),
    "job.service.other_agency": gettext_noop(
        "the connector “%(connector)s” answers for another agency than the %(kind)s agency that works this case, "
        "to which service task “%(element)s” is routed; nothing was sent. Give the connector the agency of the "
        "task's lane (admin: Service connectors), or route the task to the connector's agency"
    ),
    "job.service.field_failed": gettext_noop("a declared field cannot be computed: %(detail)s"),
    "job.service.no_secret": gettext_noop(
        "the connector “%(connector)s” has no secret, so nothing was sent (a call signed without one could be "
        "forged by anybody): set one in the admin (Service connectors), give it to the receiver, then retry"
    ),
    "job.service.refused": gettext_noop("connector refused: %(reason)s"),
    "job.service.unreachable": gettext_noop(
        "connector unreachable: the address gave no HTTP answer (its host name may be unknown, or the connection "
        "refused, cut off or timed out); the server's log says which"
    ),
    "job.service.redirect": gettext_noop("connector answered HTTP %(status)s (redirects are not followed)"),
    "job.service.http_status": gettext_noop("connector answered HTTP %(status)s"),
    "job.service.answer_too_long": gettext_noop("the connector's answer is longer than %(limit)s bytes"),
    "job.service.answer_not_json": gettext_noop("the connector's answer is not JSON"),
    "job.service.answer_not_object": gettext_noop("the connector's answer is not a JSON object"),
    "job.service.answer_invalid": gettext_noop("the answer does not meet the task's form: %(problems)s"),
    "job.service.answer_problem": gettext_noop("field %(field)s: %(problem)s"),
    "job.service.step_failed": gettext_noop("the answer was taken, but the step after the task failed: %(detail)s"),
    # --- why an engine step stopped on an incident (workflows.steps): stored as a code with
    # its params on the incident and its timeline event (``Message``), shown in the reader's
    # language. ``detail`` is what the engine or the model's script said: quoted as it is.
    "incident.step.lane_without_participant": gettext_noop(
        "task “%(task)s” is in lane “%(lane)s” (%(kind)s), but no %(kind)s agency participates in the case"
    ),
    "incident.step.external_task_without_participant": gettext_noop(
        "external task “%(element)s” is fetched by an agency kind that does not take part in the case"
    ),
    "incident.step.state_too_large": gettext_noop(
        "the workflow state would be %(size_bytes)s bytes, more than the %(limit_bytes)s allowed "
        "(ENGINE_STATE_MAX_BYTES); the step's engine work is not saved"
    ),
    "incident.step.state_too_large_at": gettext_noop(
        "the workflow state would be %(size_bytes)s bytes, more than the %(limit_bytes)s allowed "
        "(ENGINE_STATE_MAX_BYTES); the most data is held by element “%(element)s”; the step's engine work is not saved"
    ),
    "incident.step.step_limit": gettext_noop(
        "more than %(limit)s engine steps without waiting for a person or a timer (last element “%(element)s”)"
    ),
    "incident.step.expression_error": gettext_noop("an expression or script of the model failed: %(detail)s"),
    "incident.step.data_error": gettext_noop("the data the task needs is missing or of the wrong type: %(detail)s"),
    "incident.step.task_engine_error": gettext_noop("the engine could not run the element: %(detail)s"),
    "incident.step.engine_error": gettext_noop("the engine failed: %(detail)s"),
    # --- the engine's own words for why an expression, a script or a task stopped
    # (``bpmn.engine.errors.ENGINE_CODES``): the ``detail`` of an incident or a job's error.
    # Params are limits and the model's own names, never a value of case data.
    "engine.time-limit": gettext_noop("the run time exceeds the limit of %(milliseconds)s ms"),
    "engine.step-time-limit": gettext_noop(
        "the scripts and conditions of one step run longer than the limit of %(milliseconds)s ms"
    ),
    "engine.iteration-limit": gettext_noop("the loop iterations exceed the limit of %(limit_items)s per run"),
    "engine.allocation-limit": gettext_noop("the data created exceeds the limit of %(limit_items)s items per run"),
    "engine.sequence-limit": gettext_noop(
        "a text or list would have more than %(limit_items)s items, more than the limit"
    ),
    "engine.integer-limit": gettext_noop("a whole number would be larger than the limit of %(limit)s bits"),
    "engine.text-conversion-limit": gettext_noop(
        "turning a structure of more than %(limit_items)s items into text exceeds the limit"
    ),
    "engine.walked-limit": gettext_noop(
        "a value compared or looked up holds more than %(limit_items)s items (a value that appears several times "
        "counts each time), more than the limit"
    ),
    "engine.walked-itself": gettext_noop("a value compared or looked up contains itself"),
    "engine.walked-depth": gettext_noop(
        "a value compared or looked up is nested more than %(limit)s levels deep, more than the limit"
    ),
    "engine.format-width-limit": gettext_noop("a width or precision in a format exceeds the limit of %(limit_items)s"),
    "engine.format-star": gettext_noop("a width or precision given as * in a format is not supported"),
    "engine.format-spec-limit": gettext_noop("a format spec longer than %(limit)s characters exceeds the limit"),
    "engine.generator-outside": gettext_noop("a generator cannot be used outside the expression that made it"),
    "engine.saved-itself": gettext_noop("the data the script leaves contains itself, which cannot be saved"),
    "engine.saved-depth": gettext_noop(
        "the data the script leaves is nested more than %(limit)s levels deep, more than can be saved"
    ),
    "engine.saved-limit": gettext_noop(
        "the data the script leaves would be more than %(limit_items)s items when saved (a value that appears several "
        "times counts each time), more than the limit"
    ),
    "engine.sum-numbers": gettext_noop("sum() adds numbers only; use join() for text"),
    "engine.round-limit": gettext_noop("round() digits exceed the limit of %(limit)s"),
    "engine.int-text-limit": gettext_noop("int() of a text longer than %(limit)s characters exceeds the limit"),
    "engine.expects-date-text": gettext_noop("parse_date() expects an ISO-8601 date text"),
    "engine.expects-datetime-text": gettext_noop("parse_datetime() expects an ISO-8601 date-time text"),
    "engine.expects-date": gettext_noop(
        "%(function)s expects a date or an ISO-8601 date text such as 2027-03-01, and got something else"
    ),
    "engine.time-zone-name": gettext_noop("the time zone must be a name such as Europe/Oslo"),
    "engine.time-zone-unknown": gettext_noop("the time zone is not known; use a name such as Europe/Oslo"),
    "engine.months-expected": gettext_noop("add_months() expects a date and a whole number of months"),
    "engine.months-limit": gettext_noop("the number of months must be a whole number up to %(limit)s"),
    "engine.date-out-of-range": gettext_noop("the date is outside the supported years 1-9999"),
    "engine.timer-date-out-of-range": gettext_noop(
        "the timer “%(element)s” falls due on a date outside %(minimum)s to %(maximum)s, the dates a timer may "
        "have; the date it is computed from is wrong: correct it in the case and retry"
    ),
    "engine.days-limit": gettext_noop("%(function)s expects a whole number of days up to %(limit)s"),
    "engine.clock-expected": gettext_noop("local_datetime() expects the time as HH:MM"),
    "engine.repeat-times": gettext_noop("repeat() expects a whole number of times from 1 to %(limit)s"),
    "engine.repeat-interval": gettext_noop("repeat() expects an interval such as P14D, P2W or P1M"),
    "engine.no-method": gettext_noop("a value of type %(type)s has no method “%(name)s” here"),
    "engine.no-attribute": gettext_noop("a value of type %(type)s has no attribute “%(name)s” here"),
    "engine.source-limit": gettext_noop(
        "an expression or script longer than %(limit_items)s characters exceeds the limit"
    ),
    "engine.nested-too-deeply": gettext_noop("the expression is nested too deeply"),
    "engine.cycle-limit": gettext_noop(
        "the cycle repeats without end or more than %(limit)s times, more than the limit; give a bounded count "
        "such as R3/P30D, or use repeat()"
    ),
    "engine.service-task-gone": gettext_noop("the service task is no longer in the case's process"),
    "engine.service-task-state": gettext_noop("the service task “%(element)s” is in the state %(state)s"),
    "engine.parallel-instances-limit": gettext_noop(
        "the parallel multi-instance would make more than %(limit)s instances at once, more than the limit; make "
        "the collection or the loop cardinality smaller, or run it sequentially"
    ),
    # what the expression sandbox refuses at deploy (the detail of model.unsafe-expression and
    # model.unsafe-script): where in the text, and the construct, name or operator as Python writes it
    "engine.unsafe-construct": gettext_noop("line %(line)s, column %(column)s: %(construct)s is not allowed"),
    "engine.unsafe-name": gettext_noop(
        "line %(line)s, column %(column)s: the name “%(name)s” is not allowed (names starting with _ are reserved)"
    ),
    "engine.unsafe-function-assignment": gettext_noop(
        "line %(line)s, column %(column)s: assigning to “%(name)s” is not allowed (it is the name of a function)"
    ),
    "engine.unsafe-literal": gettext_noop(
        "line %(line)s, column %(column)s: a literal of type %(type)s is not allowed"
    ),
    "engine.unsafe-integer-literal": gettext_noop(
        "line %(line)s, column %(column)s: an integer literal larger than %(limit)s bits is not allowed"
    ),
    "engine.unsafe-private-attribute": gettext_noop(
        "line %(line)s, column %(column)s: "
        "the attribute “%(name)s” is not allowed (names starting with _ are never accessible)"
    ),
    "engine.unsafe-format-method": gettext_noop(
        "line %(line)s, column %(column)s: "
        "the method “%(name)s” is not allowed (format strings can reach attributes of their arguments; use an f-string)"
    ),
    "engine.unsafe-attribute-assignment": gettext_noop(
        "line %(line)s, column %(column)s: assigning to the attribute “%(name)s” is not allowed"
    ),
    "engine.unsafe-method-value": gettext_noop(
        "line %(line)s, column %(column)s: using the method “%(name)s” without calling it is not allowed"
    ),
    "engine.unsafe-attribute": gettext_noop(
        "line %(line)s, column %(column)s: the attribute “%(name)s” is not allowed (allowed: %(allowed)s)"
    ),
    "engine.unsafe-call": gettext_noop(
        "line %(line)s, column %(column)s: "
        "calling “%(name)s” is not allowed (functions that can be called: %(allowed)s)"
    ),
    "engine.unsafe-method-call": gettext_noop(
        "line %(line)s, column %(column)s: "
        "calling the method “%(name)s” is not allowed (methods that can be called: %(allowed)s)"
    ),
    "engine.unsafe-call-result": gettext_noop(
        "line %(line)s, column %(column)s: calling the result of an expression is not allowed"
    ),
    "engine.unsafe-unpacking": gettext_noop("line %(line)s, column %(column)s: **-unpacking is not allowed"),
    "engine.unsafe-comprehension-fors": gettext_noop(
        "line %(line)s, column %(column)s: a comprehension with more than one for is not allowed"
    ),
    "engine.unsafe-slice-assignment": gettext_noop(
        "line %(line)s, column %(column)s: assigning to a slice is not allowed"
    ),
    "engine.unsafe-target": gettext_noop(
        "line %(line)s, column %(column)s: assigning to this target is not allowed; assign to a name or an item"
    ),
    "engine.unsafe-delete": gettext_noop(
        "line %(line)s, column %(column)s: deleting anything but a variable is not allowed"
    ),
    "engine.unsafe-operator": gettext_noop(
        "line %(line)s, column %(column)s: the operator %(operator)s is not allowed"
    ),
    # --- an archive package the archive endpoint did not take (retention.archive_endpoint) ---
    "job.archive.refused": gettext_noop("archive endpoint refused: %(reason)s"),
    "job.archive.unreachable": gettext_noop("archive endpoint unreachable (%(error_class)s)"),
    "job.archive.no_answer": gettext_noop(
        "the package was sent, but the archive endpoint did not answer (%(error_class)s): it may have "
        "taken it; the delivery is logged, and the next attempt sends it again with the same key"
    ),
    "job.archive.redirect": gettext_noop("archive endpoint answered HTTP %(status)s (redirects are not followed)"),
    "job.archive.http_status": gettext_noop("archive endpoint answered HTTP %(status)s"),
    # --- notes and attachments on a case (never their text, file name or bytes) ---
    "note.not_found": gettext_noop("no such note in this case"),
    "attachment.not_found": gettext_noop("no such attachment in this case"),
    "attachment.withdrawn": gettext_noop("the attachment is withdrawn and its file deleted"),
    "attachment.erased": gettext_noop("the attachment's file was deleted with the case's data"),
    "attachment.forbidden": gettext_noop(
        "you may not open this attachment: its data category is not shared with your agency in this case"
    ),
    "note.change_forbidden": gettext_noop("only the one who wrote the note corrects or withdraws it"),
    "attachment.withdraw_forbidden": gettext_noop("only the one who added the attachment withdraws it"),
    "note.author_still_acts": gettext_noop(
        "the one who wrote the note still works the case for your agency: only they correct or withdraw it"
    ),
    "note.author_left": gettext_noop(
        "the one who wrote the note no longer works the case for your agency: only the agency's lead or "
        "coordinator corrects or withdraws it"
    ),
    "attachment.uploader_still_acts": gettext_noop(
        "the one who added the attachment still works the case for your agency: only they withdraw it"
    ),
    "attachment.uploader_left": gettext_noop(
        "the one who added the attachment no longer works the case for your agency: only the agency's lead "
        "or coordinator withdraws it"
    ),
    "note.erased": gettext_noop("the note's text was deleted with the case's data"),
    "note.case_closed": gettext_noop("the case is closed: notes and attachments can no longer be added"),
    "note.add_forbidden": gettext_noop("you may not write notes or add attachments in this case"),
    "note.withdrawn": gettext_noop("the note is withdrawn"),
    "note.changed": gettext_noop("the note was changed after you opened it; open it again to see the new text"),
    "attachment.already_withdrawn": gettext_noop("the attachment is already withdrawn"),
    "note.invalid": gettext_noop("the note is not valid"),
    "attachment.invalid": gettext_noop("the attachment is not valid"),
    "note.unknown_category": gettext_noop("unknown category"),
    "note.category_not_allowed": gettext_noop(
        "your agency may not write this category in this case; choose one of the categories offered"
    ),
    "note.agency_not_yours": gettext_noop("you do not work in this agency, or it does not take part in the case"),
    "note.version_required": gettext_noop("give the version of the note you correct"),
    "note.not_a_warning": gettext_noop("the note is not a safety warning: only a safety warning is confirmed"),
    "attachment.not_a_warning": gettext_noop(
        "the attachment is not a safety warning: only a safety warning is confirmed"
    ),
    "attachment.file_required": gettext_noop("choose a file"),
    "attachment.empty": gettext_noop("the file is empty"),
    "attachment.too_large": gettext_noop("the file is larger than %(megabytes)s MB"),
    "consent.case_full": gettext_noop(
        "the case holds %(limit)s recorded sharings, as many as a case may hold; revoked ones count too"
    ),
    "retention.corrections_full": gettext_noop(
        "your agency has made %(limit)s corrections in the case, as many as one agency may make"
    ),
    # A count's text (these and the others in ``PLURALS``): the plural here, the singular there,
    # marked for translation there with this one (``ngettext_lazy``), as one plural entry.
    "note.case_count_full": (
        "your agency has written %(limit)s notes and corrections in the case, as many as one agency may write in a case"
    ),
    "note.case_chars_full": gettext_noop(
        "your agency's notes in the case, earlier versions included, would have more than %(limit)s characters "
        "together: no more can be written"
    ),
    "note.corrections_full": (
        "the note has been corrected %(limit)s times, as often as a note may be; withdraw it and write a new one"
    ),
    "attachment.case_count_full": (
        "your agency has added %(limit)s files to the case, as many as one agency may add to a case"
    ),
    "attachment.case_bytes_full": gettext_noop(
        "your agency's files in the case would take more than %(megabytes)s MB together; withdraw a file you no "
        "longer need"
    ),
    "attachment.request_too_large": gettext_noop("the upload is larger than %(megabytes)s MB"),
    "attachment.type_refused": gettext_noop(
        "only PDF, PNG and JPEG files are accepted, and this file's content is none of them"
    ),
    "attachment.pdf_active": gettext_noop(
        "the PDF file holds content that can run (scripts, actions or files inside it) or cannot be checked; "
        "print it to a new PDF or scan it, and attach that"
    ),
}

# Names of JSON-schema types and formats that messages name (``schema.type``, ``schema.format``).
TYPE_NAMES: dict[str, str] = {
    "string": gettext_noop("text"),
    "integer": gettext_noop("a whole number"),
    "number": gettext_noop("a number"),
    "boolean": gettext_noop("yes or no"),
    "object": gettext_noop("an object"),
    "array": gettext_noop("a list"),
    "null": gettext_noop("nothing"),
    "date": gettext_noop("a date (YYYY-MM-DD)"),
    "date-time": gettext_noop("a date and time with its time zone, such as 2026-12-01T09:00:00+01:00"),
    "email": gettext_noop("an e-mail address"),
    "time": gettext_noop("a time of day with its time zone, such as 09:00:00+01:00"),
    "uri": gettext_noop("a web address"),
}


def ngettext_lazy(singular: str, plural: str) -> str:
    """Marks a count's text for one and for more as one plural entry of the catalogue (named as
    Django's, which ``makemessages`` extracts with both forms: ``--keyword=ngettext_lazy:1,2``;
    marked apart, each came out as an entry of its own and the catalogue's plural entries as
    fuzzy). Core knows no Django: this gives back the text for one; the plural stays in
    ``MESSAGES``."""
    return singular


# Messages that say a count: the code -> the text for one (``MESSAGES`` holds the text for
# any other number) and the param that counts. Said with ``ngettext`` in the reader's
# language (its plural rule), so a limit of 1 is not "1 notes" ("1 notater").
PLURALS: dict[str, tuple[str, str]] = {
    "task.claims_full": (
        ngettext_lazy(
            "you have taken this task %(limit)s time in the last 24 hours, as often as one person may; complete it "
            "without taking it, leave it to a colleague, or take it again tomorrow",
            "you have taken this task %(limit)s times in the last 24 hours, as often as one person may; complete it "
            "without taking it, leave it to a colleague, or take it again tomorrow",
        ),
        "limit",
    ),
    "case.responsible_changes_full": (
        ngettext_lazy(
            "you have changed who is responsible for the case %(limit)s time, as often as one person "
            "may; leave the next change to another lead of the agency",
            "you have changed who is responsible for the case %(limit)s times, as often as one "
            "person may; leave the next change to another lead of the agency",
        ),
        "limit",
    ),
    "break_glass.openings_full": (
        ngettext_lazy(
            "you have opened emergency access in this case %(limit)s time, as often as one person "
            "may; ask a colleague or the case's coordinator for help",
            "you have opened emergency access in this case %(limit)s times, as often as one "
            "person may; ask a colleague or the case's coordinator for help",
        ),
        "limit",
    ),
    "message.case_messages_full": (
        ngettext_lazy(
            "your agency has sent %(limit)s message into the case, as many as one agency may send "
            "into a case; write what has changed in a note on the case instead",
            "your agency has sent %(limit)s messages into the case, as many as one agency may send "
            "into a case; write what has changed in a note on the case instead",
        ),
        "limit",
    ),
    "note.case_count_full": (
        ngettext_lazy(
            "your agency has written %(limit)s note or correction in the case, as many as one agency may write "
            "in a case",
            "your agency has written %(limit)s notes and corrections in the case, as many as one agency may write "
            "in a case",
        ),
        "limit",
    ),
    "note.corrections_full": (
        ngettext_lazy(
            "the note has been corrected %(limit)s time, as often as a note may be; withdraw it and write a new one",
            "the note has been corrected %(limit)s times, as often as a note may be; withdraw it and write a new one",
        ),
        "limit",
    ),
    "retention.corrections_full": (
        ngettext_lazy(
            "your agency has made %(limit)s correction in the case, as many as one agency may make",
            "your agency has made %(limit)s corrections in the case, as many as one agency may make",
        ),
        "limit",
    ),
    "attachment.case_count_full": (
        ngettext_lazy(
            "your agency has added %(limit)s file to the case, as many as one agency may add to a case",
            "your agency has added %(limit)s files to the case, as many as one agency may add to a case",
        ),
        "limit",
    ),
}

# How a language says a count: ``ngettext(singular, plural, n)`` of the active language,
# given by Django at start-up (``permissions.apps``: core knows no Django). Until then, and
# for English answers, the English rule.
_ngettext: Callable[[str, str, int], str] | None = None


def use_ngettext(ngettext: Callable[[str, str, int], str]) -> None:
    global _ngettext
    _ngettext = ngettext


def _text(code: str, params: Mapping[str, Any], translate: Callable[[str], str] | None) -> str:
    """The text of ``code`` before its params are put in: for a count, the form its number takes."""
    plural = PLURALS.get(code)
    if plural is None:
        return MESSAGES[code] if translate is None else translate(MESSAGES[code])
    singular, counted = plural
    count = params.get(counted)
    number = count if isinstance(count, int) and not isinstance(count, bool) else 0
    if translate is None or _ngettext is None:
        return singular if number == 1 else MESSAGES[code]
    return _ngettext(singular, MESSAGES[code], number)


# Params that are large counts (bytes): written with the digits grouped, as the reader's
# language groups them ("1,000,000" in English, "1 000 000" in bokmål). The separator is
# read off how the language writes one million (``ONE_MILLION`` translated): core knows no
# Django, so not from its number formats.
GROUPED_NUMBERS = frozenset({"size_bytes", "limit_bytes", "limit_items"})
ONE_MILLION = gettext_noop("1,000,000")


def render(code: str, params: Mapping[str, Any], translate: Callable[[str], str] | None = None) -> str:
    """The message of ``code`` with its ``params``: English (the API's words, JSON-schema
    type names as they are), or through ``translate`` (a page: type names in words too)."""
    text = _text(code, params, translate)
    if translate is None:
        return text % {name: _param_english(name, value) for name, value in params.items()} if params else text
    if not params:
        return text
    return text % {name: _param(name, value, translate) for name, value in params.items()}


def _messages(value: Any) -> bool:
    """A list of messages (said one after another); other lists are left as they were."""
    return isinstance(value, list) and bool(value) and all(isinstance(item, Message) for item in value)


def _grouped(name: str, value: Any) -> bool:
    return name in GROUPED_NUMBERS and isinstance(value, int) and not isinstance(value, bool)


def _group_digits(value: int, translate: Callable[[str], str]) -> str:
    """``value`` with its digits grouped by the separator of ``translate``'s language."""
    parts = translate(ONE_MILLION).split("000")  # "1,", ",", "" in English
    separator = parts[1] if len(parts) == 3 and parts[0] == "1" + parts[1] and parts[1] and not parts[2] else ","
    return f"{value:,}".replace(",", separator)


def _param_english(name: str, value: Any) -> Any:
    if _grouped(name, value):
        return f"{value:,}"
    return "; ".join(map(str, value)) if _messages(value) else value


def _param(name: str, value: Any, translate: Callable[[str], str]) -> Any:
    if name in ("type", "format") and isinstance(value, str) and value in TYPE_NAMES:
        return translate(TYPE_NAMES[value])
    if _grouped(name, value):
        return _group_digits(value, translate)
    if isinstance(value, Message):
        return value.render(translate)
    if _messages(value):
        return "; ".join(item.render(translate) for item in value)
    return value


class Message:
    """A code with its params, kept to be said later in the reader's language: a stored
    error (a failed job's and its incident's, ``as_json``/``from_json``), or a param of
    another message (rendered in that message's language, English by ``str``). A param is
    text, a number, a ``Message`` or a list of messages (said one after another, ``; `` between)."""

    __slots__ = ("code", "params")

    def __init__(self, code: str, params: Mapping[str, Any] | None = None):
        if code not in MESSAGES:
            raise KeyError(f"no message for code {code!r}: add it to core.messages")
        self.code, self.params = code, dict(params or {})

    def render(self, translate: Callable[[str], str] | None = None) -> str:
        return render(self.code, self.params, translate=translate)

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        return f"Message({self.code!r}, {self.params!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Message) and (self.code, self.params) == (other.code, other.params)

    __hash__ = None  # type: ignore[assignment]

    def map_text(self, change: Callable[[str], str]) -> Message:
        """The message with ``change`` applied to every text among its params (at any depth):
        how a stored error is scrubbed of a case's values before it is shown."""
        return Message(self.code, {name: _map_text(value, change) for name, value in self.params.items()})

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "params": {name: _as_json(value) for name, value in self.params.items()}}

    @classmethod
    def from_json(cls, data: Any) -> Message | None:
        """The message ``as_json`` stored; None when there is none, or its code is no longer
        known (the stored English text is shown instead)."""
        if not isinstance(data, dict) or data.get("code") not in MESSAGES:
            return None
        params = data.get("params")
        if not isinstance(params, dict):
            return None
        return cls(data["code"], {name: _from_json(value) for name, value in params.items()})


def _map_text(value: Any, change: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return change(value)
    if isinstance(value, Message):
        return value.map_text(change)
    if isinstance(value, list):
        return [_map_text(item, change) for item in value]
    return value


def _as_json(value: Any) -> Any:
    if isinstance(value, Message):
        return value.as_json()
    if isinstance(value, list):
        return [_as_json(item) for item in value]
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


def _from_json(value: Any) -> Any:
    if isinstance(value, dict):
        return Message.from_json(value) or ""
    if isinstance(value, list):
        return [_from_json(item) for item in value]
    return value
