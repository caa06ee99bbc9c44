"""The agency of each correction stored before 0012: the one its ``value_corrected`` event
names (the agency it was made for, ``services._acting_for``), else the case's coordinating
agency (a national id asked for has no event yet, and only the coordinator asks for one)."""

from django.db import migrations
from django.db.models import IntegerField, OuterRef, Subquery
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce


def backfill(apps, schema_editor):
    Correction = apps.get_model("retention", "Correction")
    Event = apps.get_model("workflows", "Event")
    event_agency = (
        Event.objects.filter(case_id=OuterRef("case_id"), kind="value_corrected", agency__isnull=False)
        .annotate(correction=Cast(KT("detail__correction"), IntegerField()))
        .filter(correction=OuterRef("pk"))
        .values("agency_id")[:1]
    )
    Correction.objects.filter(agency__isnull=True).update(
        agency_id=Coalesce(Subquery(event_agency), Subquery(_coordinator(apps)))
    )


def _coordinator(apps):
    Case = apps.get_model("workflows", "Case")
    return Case.objects.filter(pk=OuterRef("case_id")).values("coordinator_agency_id")[:1]


class Migration(migrations.Migration):
    dependencies = [
        ("retention", "0012_correction_agency"),
        ("workflows", "0001_initial"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
