"""One function per use case, shared by the web UI, the API and the commands.

Each state change is one transaction: lock the instance row, re-check under the lock, act,
advance the engine, save, sync the task projection, append events (``workflows.steps``).
Errors are ``core.errors`` types: ``NotFound`` (invisible: no existence leak),
``Forbidden`` (visible but not allowed), ``Conflict`` and ``InvalidInput``.
"""

from workflows.jobs.timers import fire_timer
from workflows.services.attachments import add_attachment, confirm_safety_attachment, withdraw_attachment
from workflows.services.break_glass import end_break_glass, open_break_glass, review_break_glass
from workflows.services.caseload import assign_responsible
from workflows.services.cases import start_case
from workflows.services.consents import record_consent, revoke_consent
from workflows.services.follow_on import start_follow_on
from workflows.services.incidents import retry_incident, set_incident_data
from workflows.services.legal_bases import (
    create_legal_basis,
    delete_legal_basis,
    legal_basis_to_manage,
    retire_legal_basis,
    update_legal_basis,
)
from workflows.services.messages import correlate_message
from workflows.services.notes import add_note, confirm_safety_note, correct_note, withdraw_note
from workflows.services.participants import withdraw_agency
from workflows.services.safety import confirm_safety_warning
from workflows.services.tasks import check_task_workable, claim_task, complete_task, reassign_task, unclaim_task
from workflows.services.versions import migrate_instances

__all__ = [
    "add_attachment",
    "add_note",
    "assign_responsible",
    "check_task_workable",
    "claim_task",
    "complete_task",
    "confirm_safety_attachment",
    "confirm_safety_note",
    "confirm_safety_warning",
    "correct_note",
    "correlate_message",
    "create_legal_basis",
    "delete_legal_basis",
    "end_break_glass",
    "fire_timer",
    "legal_basis_to_manage",
    "migrate_instances",
    "open_break_glass",
    "reassign_task",
    "record_consent",
    "retire_legal_basis",
    "retry_incident",
    "review_break_glass",
    "revoke_consent",
    "set_incident_data",
    "start_case",
    "start_follow_on",
    "unclaim_task",
    "update_legal_basis",
    "withdraw_agency",
    "withdraw_attachment",
    "withdraw_note",
]
