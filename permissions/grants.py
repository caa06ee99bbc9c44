"""django-guardian object permissions on cases for the participating agencies' groups.

Stored in ``CaseGroupObjectPermission`` (guardian's direct foreign-key model for cases, so
that lists join it on integer keys).

The object permission ``workflows.view_case`` on a case is held by the Django group of
every agency that participates in it. It is granted when the case starts
(``workflows.services.start_case`` calls ``grant_case_access``) and when an agency
joins (``add_participant``), and removed when an agency leaves. ``permissions.rules``
reads it (together with the participation and a case role); nothing else does.
"""

from __future__ import annotations

from typing import cast

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import Field, Subquery

from permissions.models import Agency, CaseGroupObjectPermission, CaseParticipant
from permissions.prepared import Prepared
from permissions.rules import forget_case_access

VIEW_CASE = "view_case"


def _case_content_type():
    return ContentType.objects.get_by_natural_key("workflows", "case")


def _view_case_permission(content_type) -> Permission:
    return Permission.objects.get(content_type=content_type, codename=VIEW_CASE)


def _view_case_permissions():
    return Permission.objects.filter(
        content_type__app_label="workflows", content_type__model="case", codename=VIEW_CASE
    )


# ``_view_case_permission(_case_content_type())`` in one statement compiled once (every case
# start grants; building the read was a twentieth of a start's Python).
_VIEW_CASE_PERMISSION = Prepared(_view_case_permissions, kinds=())


# Its id alone, as a subquery of the grant's insert (``_grant_in_one_statement``, a case
# start's insert), looked up as the lists look it up (``rules._view_case_id``): by its
# content type's keys and its own, without the join and the sort of ``Permission``'s order.
_VIEW_CASE_PERMISSION_ID = Prepared(
    lambda: (
        Permission.objects.filter(
            content_type_id=Subquery(ContentType.objects.filter(app_label="workflows", model="case").values("pk")),
            codename=VIEW_CASE,
        )
        .order_by()
        .values("id")
    ),
    kinds=(),
)


def grant_agency_access(case, agencies) -> None:
    """Give each agency's group ``workflows.view_case`` on ``case`` (idempotent)."""
    forget_case_access(case)
    if connection.vendor == "postgresql":
        _grant_in_one_statement(case.pk, sorted({agency.group_id for agency in agencies}))
        return
    (permission,) = _VIEW_CASE_PERMISSION.objects()
    CaseGroupObjectPermission.objects.bulk_create(
        [
            CaseGroupObjectPermission(group_id=agency.group_id, permission=permission, content_object_id=case.pk)
            for agency in agencies
        ],
        ignore_conflicts=True,
    )


def _grant_in_one_statement(case_id: int, group_ids: list[int]) -> None:
    """``grant_agency_access``'s permission read and insert as one statement (a case start
    sent them as two): the permission's id is a subquery of the insert, and a database
    without it (never migrated) gives NULL, which the column refuses, as the read refused."""
    if not group_ids:
        return
    sql, params = grant_insert_sql("%s")
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, case_id, group_ids])


def grant_insert_sql(case_id: str) -> tuple[str, list]:
    """PostgreSQL: the insert of ``_grant_in_one_statement`` for the case whose id is the SQL
    expression ``case_id`` (``%s``, or a ``WITH`` of a new case's insert: a start writes its
    case, participants and grants in one statement, ``services.cases._insert_numbered``).
    Its parameters: those returned, ``case_id``'s own, then the groups' ids (an array)."""
    meta = CaseGroupObjectPermission._meta
    quote = connection.ops.quote_name
    columns = ", ".join(
        quote(cast(Field, meta.get_field(name)).column) for name in ("permission", "group", "content_object")
    )
    permission_sql, permission_params = _VIEW_CASE_PERMISSION_ID.statement()
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({columns}) "  # noqa: S608 (names from the model)
        f"SELECT ({permission_sql}), group_id, {case_id} FROM UNNEST(%s::integer[]) AS group_id ON CONFLICT DO NOTHING"
    )
    return sql, list(permission_params)


def revoke_agency_access(case, agencies) -> int:
    """Take ``workflows.view_case`` on ``case`` away from each agency's group."""
    forget_case_access(case)
    content_type = _case_content_type()
    deleted, _ = CaseGroupObjectPermission.objects.filter(
        group_id__in=[agency.group_id for agency in agencies],
        permission__codename=VIEW_CASE,
        permission__content_type=content_type,
        content_object_id=case.pk,
    ).delete()
    return deleted


def grant_case_access(case, participants=None) -> None:
    """Grant ``view_case`` on ``case`` to the group of every participating agency.
    ``participants``: the agencies the caller has just made its participants (a new case's),
    so they are not read back."""
    if participants is None:
        agencies = list(Agency.objects.filter(participations__case=case).distinct())
    else:
        agencies = list({agency.pk: agency for agency in participants}.values())
    grant_agency_access(case, agencies)


def sync_case_access(case) -> None:
    """Make the object permissions match the participants exactly (repair tool)."""
    forget_case_access(case)
    participating = list(Agency.objects.filter(participations__case=case).distinct())
    content_type = _case_content_type()
    with transaction.atomic():
        CaseGroupObjectPermission.objects.filter(
            permission__codename=VIEW_CASE,
            permission__content_type=content_type,
            content_object_id=case.pk,
        ).exclude(group_id__in=[agency.group_id for agency in participating]).delete()
        grant_agency_access(case, participating)


def add_participant(case, kind: str, agency: Agency):
    """Let ``agency`` take part in ``case`` as ``kind`` and grant it access.

    Low level: no permission check and no event. The use case that calls it (an
    "add agency to case" service) checks the actor and records the event.
    """
    if agency.kind != kind:
        raise ValueError(f"{agency.name} is a {agency.kind} agency, not {kind}")
    with transaction.atomic():
        participant, _ = CaseParticipant.objects.update_or_create(case=case, kind=kind, defaults={"agency": agency})
        sync_case_access(case)
    return participant


def remove_participant(case, kind: str) -> None:
    """The agency playing ``kind`` leaves ``case``; its group loses access at once."""
    with transaction.atomic():
        CaseParticipant.objects.filter(case=case, kind=kind).delete()
        sync_case_access(case)
