"""The standard outcome kinds (issue 15): what a housing contact records when a case closes."""

from django.db import migrations

# code, label (bokmål), has_home, needs_tenure, needs_reason, description
STANDARD_KINDS = [
    (
        "bosatt",
        "Bosatt i egen bolig",
        True,
        True,
        False,
        "Personen har fått en bolig: oppgi disposisjonsform og innflyttingsdato.",
    ),
    (
        "bolig_beholdt",
        "Beholdt boligen",
        True,
        False,
        False,
        "Personen bor fortsatt i boligen de hadde, for eksempel etter at en utkastelse ble avverget.",
    ),
    (
        "flyttet_til_annen_bolig",
        "Flyttet til en annen bolig",
        True,
        True,
        False,
        "Personen har flyttet til en annen bolig: oppgi disposisjonsform og innflyttingsdato.",
    ),
    ("ikke_bosatt", "Ikke bosatt", False, False, True, "Personen har ikke fått bolig: oppgi hvorfor."),
    ("utkastet", "Kastet ut av boligen", False, False, False, "Utkastelsen ble gjennomført."),
    (
        "flyttet_fra_kommunen",
        "Flyttet fra kommunen",
        False,
        False,
        False,
        "Personen har flyttet til en annen kommune; saken følges opp der.",
    ),
    ("dod", "Død", False, False, False, "Personen er død."),
    (
        "samtykke_trukket",
        "Trakk samtykket",
        False,
        False,
        False,
        "Personen trakk samtykket til samarbeidet; saken avsluttes.",
    ),
]


def seed(apps, schema_editor):
    OutcomeKind = apps.get_model("workflows", "OutcomeKind")
    for position, (code, label, has_home, needs_tenure, needs_reason, description) in enumerate(STANDARD_KINDS):
        OutcomeKind.objects.update_or_create(
            code=code,
            defaults={
                "label": label,
                "has_home": has_home,
                "needs_tenure": needs_tenure,
                "needs_reason": needs_reason,
                "description": description,
                "position": (position + 1) * 10,
                "active": True,
            },
        )


def unseed(apps, schema_editor):
    # Only kinds no outcome uses; the others stay (they give recorded outcomes their meaning).
    OutcomeKind = apps.get_model("workflows", "OutcomeKind")
    OutcomeKind.objects.filter(code__in=[kind[0] for kind in STANDARD_KINDS], outcomes__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("workflows", "0007_case_outcomes")]
    operations = [migrations.RunPython(seed, unseed)]
