"""``Consent.recorded_by_agency``: the agency a consent was recorded for, whose people read its
purpose and note. It was read from where the recorder works now, so a recorder who moved to
another agency took the recording agency's words with them. Filled from the consent's
``consent_given`` event (its agency is the recorder's acting agency), else, for a consent
without one, from where its recorder works in the case now (as it was read until now)."""

from django.db import migrations, models
from django.db.models import IntegerField, OuterRef, Subquery
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

CASE_ROLES = ("member", "lead", "coordinator")


def fill(apps, schema_editor):
    Consent = apps.get_model("permissions", "Consent")
    Event = apps.get_model("workflows", "Event")
    Membership = apps.get_model("permissions", "Membership")
    CaseParticipant = apps.get_model("permissions", "CaseParticipant")
    given = (
        Event.objects.filter(case_id=OuterRef("case_id"), kind="consent_given")
        .annotate(consent_id=Cast(KeyTextTransform("consent", "detail"), IntegerField()))
        .filter(consent_id=OuterRef("pk"))
    )
    Consent.objects.filter(recorded_by_agency__isnull=True).update(
        recorded_by_agency_id=Subquery(given.order_by("pk").values("agency_id")[:1])
    )
    for consent in Consent.objects.filter(recorded_by_agency__isnull=True, recorded_by__isnull=False):
        taking_part = CaseParticipant.objects.filter(case_id=consent.case_id).values("agency_id")
        agency_id = (
            Membership.objects.filter(user_id=consent.recorded_by_id, role__in=CASE_ROLES, agency_id__in=taking_part)
            .order_by("agency_id")
            .values_list("agency_id", flat=True)
            .first()
        )
        if agency_id is not None:
            Consent.objects.filter(pk=consent.pk).update(recorded_by_agency_id=agency_id)


class Migration(migrations.Migration):
    dependencies = [
        ("permissions", "0018_accesslog_fewer_indexes"),
        ("workflows", "0046_path_categories_event_variables"),
    ]

    operations = [
        migrations.AddField(
            model_name="consent",
            name="recorded_by_agency",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=models.deletion.PROTECT,
                related_name="+",
                to="permissions.agency",
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
