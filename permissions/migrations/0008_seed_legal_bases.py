"""Seed the list of legal bases and move every consent's free-text ``basis`` onto it.

- "consent" (the old default) becomes the person's consent (forvaltningsloven § 13 a nr. 1);
- a text that names a seeded provision ("straffegjennomføringsloven § 4") becomes it;
- any other text becomes a *retired* provision of its own ("fritekst før hjemmelslisten"),
  covering exactly what its consents covered: recorded consents keep their effect and their
  history, no new consent can use it, and the admin list shows what must be assessed.
Consents a receiving agency recorded for itself (the hole this list closes) are revoked:
they never had a valid recorder.

The seeded provisions are a starting point for the municipality's legal adviser, not advice.
"""

from django.db import migrations
from django.utils import timezone

ALL_KINDS = ["prison", "nav", "health", "housing", "hospital", "municipality"]
SHARED = ["housing", "economy", "health", "justice"]

# law, paragraph, title (bokmål), is_consent, categories, recipient kinds, description
SEEDED = [
    (
        "forvaltningsloven",
        "§ 13 a nr. 1",
        "Samtykke fra personen",
        True,
        SHARED,
        ALL_KINDS,
        "Personen samtykker skriftlig til at opplysningene deles med mottakeren til formålet. "
        "Kan begrenses og trekkes tilbake når som helst.",
    ),
    (
        "helsepersonelloven",
        "§ 22",
        "Samtykke til å gi helseopplysninger",
        True,
        ["health"],
        ALL_KINDS,
        "Pasienten samtykker til at helsepersonell gir taushetsbelagte opplysninger videre.",
    ),
    (
        "helsepersonelloven",
        "§ 45",
        "Helseopplysninger til annet helsepersonell som yter helsehjelp",
        False,
        ["health"],
        ["health", "hospital"],
        "Til helsepersonell som trenger opplysningene for å gi forsvarlig helsehjelp, "
        "med mindre pasienten motsetter seg det.",
    ),
    (
        "forvaltningsloven",
        "§ 13 b første ledd nr. 5",
        "Opplysninger til annet forvaltningsorgan for avgiverorganets oppgaver",
        False,
        ["housing", "justice"],
        ["nav", "housing", "municipality", "prison"],
        "Når det er nødvendig for å fremme oppgavene til organet som gir opplysningene.",
    ),
    (
        "sosialtjenesteloven",
        "§ 44",
        "NAVs opplysninger til andre forvaltningsorganer",
        False,
        ["economy", "housing"],
        ["housing", "municipality", "health"],
        "Bare når det er nødvendig for NAVs oppgaver etter loven, eller for å forebygge "
        "vesentlig fare for liv eller alvorlig skade for noens helse.",
    ),
    (
        "NAV-loven",
        "§ 15",
        "Individuell plan: samarbeid med andre tjenesteytere",
        True,
        ["economy", "housing"],
        ["housing", "health", "municipality", "hospital", "prison"],
        "Personen har samtykket til en individuell plan; NAV deler det planen trenger med de andre tjenesteyterne.",
    ),
    (
        "straffegjennomføringsloven",
        "§ 4",
        "Samarbeid med andre offentlige etater",
        False,
        ["justice"],
        ["nav", "housing", "municipality"],
        "Kriminalomsorgen legger til rette for at innsatte og domfelte får tjenestene de har krav på "
        "(melding til NAV ved innsettelse, boligkontakt før løslatelse).",
    ),
]
CONSENT = ("forvaltningsloven", "§ 13 a nr. 1")
CONSENT_TEXTS = {"", "consent", "samtykke"}
LEGACY_LAW = "fritekst før hjemmelslisten"
SELF_GRANTED = (
    "Trukket tilbake ved innføring av hjemmelslisten: registrert av mottakeren selv, "
    "ikke av koordinator eller den som har opplysningene."
)


def _normal(text):
    return " ".join((text or "").lower().split())


def seed(apps, schema_editor):
    """The seeded provisions (also used by the tests' ``legal_bases`` fixture); returns them
    by their normalised "law paragraph"."""
    LegalBasis = apps.get_model("permissions", "LegalBasis")
    provisions = {}
    for position, (law, paragraph, title, is_consent, categories, kinds, description) in enumerate(SEEDED):
        provision, _ = LegalBasis.objects.get_or_create(
            law=law,
            paragraph=paragraph,
            defaults={
                "title": title,
                "is_consent": is_consent,
                "categories": categories,
                "agency_kinds": kinds,
                "description": description,
                "position": position * 10,
            },
        )
        provisions[_normal(f"{law} {paragraph}")] = provision
    return provisions


def forward(apps, schema_editor):
    LegalBasis = apps.get_model("permissions", "LegalBasis")
    Consent = apps.get_model("permissions", "Consent")
    Membership = apps.get_model("permissions", "Membership")
    provisions = seed(apps, schema_editor)
    consent_provision = provisions[_normal(" ".join(CONSENT))]

    now = timezone.now()
    for consent in Consent.objects.select_related("agency").iterator():
        text = _normal(consent.basis)
        if text in CONSENT_TEXTS:
            provision = consent_provision
        elif text in provisions:
            provision = provisions[text]
        else:
            provision, _ = LegalBasis.objects.get_or_create(
                law=LEGACY_LAW,
                paragraph=consent.basis.strip()[:100],
                defaults={"title": "Må vurderes", "active": False, "position": 1000},
            )
        kind = consent.agency.kind if consent.agency_id else consent.agency_kind
        if provision.law == LEGACY_LAW:
            provision.categories = sorted(set(provision.categories) | set(consent.categories or []))
            provision.agency_kinds = sorted(set(provision.agency_kinds) | {kind})
            provision.save(update_fields=["categories", "agency_kinds"])
        consent.legal_basis = provision
        fields = ["legal_basis"]
        if consent.revoked_at is None and consent.recorded_by_id is not None:
            recorder = Membership.objects.filter(user_id=consent.recorded_by_id)
            recorded_by_recipient = (
                recorder.filter(agency_id=consent.agency_id).exists()
                if consent.agency_id
                else recorder.filter(agency__kind=consent.agency_kind).exists()
            )
            if recorded_by_recipient:
                consent.revoked_at = max(now, consent.given_at)
                consent.note = f"{consent.note}\n{SELF_GRANTED}".strip()
                fields += ["revoked_at", "note"]
        consent.save(update_fields=fields)


def backward(apps, schema_editor):
    Consent = apps.get_model("permissions", "Consent")
    for consent in Consent.objects.select_related("legal_basis").iterator():
        provision = consent.legal_basis
        if provision is None:
            continue
        if provision.law == LEGACY_LAW:
            consent.basis = provision.paragraph
        elif (provision.law, provision.paragraph) == CONSENT:
            consent.basis = "consent"
        else:
            consent.basis = f"{provision.law} {provision.paragraph}"[:200]
        consent.save(update_fields=["basis"])


class Migration(migrations.Migration):
    dependencies = [
        ("permissions", "0007_legalbasis"),
    ]

    operations = [migrations.RunPython(forward, backward)]
