"""The Django admin in bokmål: the apps, the models and the list columns a Norwegian operator
meets. Until 2026-12-06 the admin index said "Agencies and access", "Memberships", "Access
logs", "Incidents" and "Rate buckets", and their lists "At", "Username", "Element id", "Full
again at": the models had no translated names."""

import html
import re

import pytest
from django.contrib import admin
from django.contrib.admin.utils import label_for_field
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.text import capfirst

from accounts.models import RateBucket
from permissions.models import AccessLog, Membership
from workflows.models import Incident

pytestmark = pytest.mark.django_db

MODELS = [Membership, AccessLog, Incident, RateBucket]
# What the operator reads instead (a test that cannot pass on an empty or English page).
BOKMAL = {
    Membership: ["Medlemskap", "Bruker", "Etat", "Rolle"],
    AccessLog: ["Tilgangslogg for saker", "Tidspunkt", "Brukernavn", "Grunnlag"],
    Incident: ["Feilhendelser", "Element-id", "Forsøk", "Opprettet"],
    RateBucket: ["Bøtter for forespørselsgrenser", "Nøkkel", "Full igjen"],
}


def _labels(model, language) -> set[str]:
    """The names the admin shows for the model, its app and its list columns."""
    model_admin = admin.site._registry[model]
    with translation.override(language):
        labels = {str(model._meta.verbose_name_plural), str(model._meta.app_config.verbose_name)}
        for name in model_admin.list_display:
            labels.add(str(label_for_field(name, model, model_admin)))
    return {capfirst(label).casefold() for label in labels}


def _texts(page: str, pattern: str) -> set[str]:
    found = re.findall(pattern, page, flags=re.S)
    return {html.unescape(re.sub(r"<[^>]+>", "", text)).strip().casefold() for text in found}


@pytest.fixture
def operator(django_user_model):
    client = Client()
    client.force_login(django_user_model.objects.create_superuser("drift-bokmal", "d@example.org", "pw-1234567"))
    return client


def test_the_admin_index_names_the_apps_and_models_in_bokmal(operator):
    page = operator.get(reverse("admin:index"))
    assert page.status_code == 200
    content = page.content.decode()
    shown = _texts(content, r"<caption>(.*?)</caption>") | _texts(content, r'<th scope="row"[^>]*>(.*?)</th>')
    for model in MODELS:
        english = _labels(model, "en") - _labels(model, "nb")
        assert not shown & english, model
        assert BOKMAL[model][0].casefold() in shown, model


@pytest.fixture
def rows(django_user_model, agencies):
    """A row in each list: an empty list shows no columns."""
    user = django_user_model.objects.create_user("medlem-bokmal", password="x")
    Membership.objects.create(user=user, agency=agencies["nav"], role="member")
    AccessLog.objects.create(user=user, username=user.username, category="housing", action="read", basis="own-data")
    Incident.objects.create(kind="expression-error", element_id="Task_a", error="boom")
    RateBucket.objects.create(key="login:medlem-bokmal", tat=0.0)


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_the_list_names_its_model_and_columns_in_bokmal(operator, rows, model):
    meta = model._meta
    page = operator.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
    assert page.status_code == 200
    content = page.content.decode()
    columns = _texts(content, r'<th scope="col"[^>]*>(.*?)</th>')
    english = _labels(model, "en") - _labels(model, "nb")
    assert not columns & english
    heading = " ".join(_texts(content, r"<h1>(.*?)</h1>") | _texts(content, r"<title>(.*?)</title>"))
    with translation.override("en"):
        names = {str(model._meta.verbose_name), str(model._meta.verbose_name_plural)}
    assert not [name for name in names if re.search(rf"\b{re.escape(name.casefold())}\b", heading)], heading
    for label in BOKMAL[model][1:]:
        assert label.casefold() in columns, label


# Words an operator reads the same in bokmål, and a header's standard name.
SAME_IN_BOKMAL = {"id", "status", "metadata", "person", "http accept"}
# Models of the sign-in libraries (django-rest-knox, django-otp) whose field names the libraries
# do not mark for translation: their lists and names are ours (accounts.admin,
# config.admin_site), the labels of their read-only detail pages stay theirs.
LIBRARY_FIELDS_LEFT = {("knox", "AuthToken"), ("otp_totp", "TOTPDevice")}


def _english_left(model) -> list[str]:
    """The admin's names for the model that read the same in English and bokmål."""
    model_admin = admin.site._registry[model]
    meta = model._meta
    names = {"app": lambda: meta.app_config.verbose_name}
    if (meta.app_label, meta.object_name) not in LIBRARY_FIELDS_LEFT:
        names["name"] = lambda: meta.verbose_name_plural
        for field in meta.concrete_fields:
            names[f"field {field.name}"] = lambda field=field: field.verbose_name
            if field.help_text:
                names[f"help {field.name}"] = lambda field=field: field.help_text
    for column in model_admin.list_display:
        names[f"column {column}"] = lambda column=column: label_for_field(column, model, model_admin)

    def read(language):
        with translation.override(language):
            return {key: str(name()) for key, name in names.items()}

    english, bokmal = read("en"), read("nb")
    return [
        f"{key}: {text}"
        for key, text in bokmal.items()
        if text == english[key] and text.casefold() not in SAME_IN_BOKMAL and key != "field id"
    ]


@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda model: model._meta.label)
def test_every_admin_name_column_field_and_help_text_is_in_bokmal(model):
    """Until 2026-12-07 some 400 of them were English: the columns of agencies, consents, jobs,
    messages, connectors, process definitions and the retention records, their help texts,
    and the sign-in libraries' apps ("Axes", "Knox", "Otp_Totp")."""
    assert _english_left(model) == []


def test_the_index_names_the_sign_in_libraries_in_bokmal(operator):
    page = operator.get(reverse("admin:index"))
    content = page.content.decode()
    shown = _texts(content, r"<caption>(.*?)</caption>") | _texts(content, r'<th scope="row"[^>]*>(.*?)</th>')
    for name in ["innloggingsforsøk", "api-nøkler", "andre faktor (autentiseringsapp)", "autentiseringsapper"]:
        assert name in shown
    for name in ["axes", "knox", "otp_totp", "auth tokens", "totp devices", "access attempts"]:
        assert name not in shown


def test_a_second_factor_device_page_is_in_bokmal_and_shows_no_key(operator, django_user_model):
    """The page an operator opens for a lost phone: django-otp's headings and field names were
    English ("Identity", "Throttling", "throttling failure count")."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = django_user_model.objects.create_user("enhet-bokmal", password="x")
    device = TOTPDevice.objects.create(user=user, name="telefon", confirmed=True)
    page = operator.get(reverse("admin:otp_totp_totpdevice_change", args=[device.pk]))
    assert page.status_code == 200
    content = page.content.decode()
    assert device.key not in content
    shown = _texts(content, r"<h2[^>]*>(.*?)</h2>") | _texts(content, r"<label[^>]*>(.*?)</label>")
    for text in ["enhet", "innstillinger", "bruker:", "mislykkede forsøk på rad:", "sifre i en kode:"]:
        assert text in shown, text
    for text in ["identity", "throttling", "configuration", "throttling failure count:", "digits:"]:
        assert text not in shown, text
