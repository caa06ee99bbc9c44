"""The Django admin in bokmål: the apps, the models and the list columns a Norwegian operator
meets. Until 2026-12-06 the admin index said "Agencies and access", "Memberships", "Access
logs", "Incidents" and "Rate buckets", and their lists "At", "Username", "Element id", "Full
again at": the models had no translated names."""

import datetime
import html
import re
import uuid

import pytest
from django.contrib import admin
from django.contrib.admin.utils import label_for_field
from django.contrib.auth import get_user_model
from django.db import models
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import capfirst
from knox.models import AuthToken

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
# do not mark for translation: their names (config.library_apps), columns and filters
# (accounts.admin) are ours; their fields' own names stay theirs.
LIBRARY_FIELDS_LEFT = {("knox", "AuthToken"), ("otp_totp", "TOTPDevice")}


def _english_left(model) -> list[str]:
    """The admin's names for the model that read the same in English and bokmål."""
    model_admin = admin.site._registry[model]
    meta = model._meta
    names = {
        "app": lambda: meta.app_config.verbose_name,
        "name": lambda: meta.verbose_name,
        "names": lambda: meta.verbose_name_plural,
    }
    if (meta.app_label, meta.object_name) not in LIBRARY_FIELDS_LEFT:
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
    and the sign-in libraries' apps ("Axes", "Knox", "Otp_Totp"); until 2026-12-07 their models
    too ("auth token", "TOTP device"). A plural Django made of the singular (its "s" added to
    a bokmål name: "kobling fra gruppe hos identitetsleverandørens") is none."""
    assert _english_left(model) == []
    meta = model._meta
    assert str(meta.verbose_name_plural) != f"{meta.verbose_name}s"


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


# --- every page the admin has for a model --------------------------------------------------
# A model's name in the admin's own phrases: the list's title ("Select TOTP device to
# change"), the add, change and view pages' ("Add ...", "Change ..."), the breadcrumbs, the
# delete page ("Are you sure you want to delete the TOTP device ...?", and the related rows it
# lists by their model's name), the bulk delete's ("... the selected TOTP devices?") and the
# history. Until 2026-12-07 the sign-in libraries' models (knox's tokens, django-otp's
# devices) and the device list's filters ("By created at") were English on all of them.

# The admin's English frames around a name (its bokmål is Django's, or config/library_locale).
ENGLISH_FRAMES = re.compile(
    r"\b(Select .+ to (change|view)|Add |Change |View |Delete |Deleting |Are you sure|By |Home\b"
    r"|Change history|Summary|Objects\b)"
)


def _value(field):
    """A value the field takes, for a row made only to be shown."""
    if field.choices:
        return field.choices[0][0]
    if isinstance(field, models.ForeignKey):
        return _row(field.related_model, fresh=isinstance(field, models.OneToOneField))
    kinds = [
        (models.UUIDField, uuid.uuid4),
        (models.GenericIPAddressField, lambda: "127.0.0.1"),
        (models.EmailField, lambda: "rad@example.org"),
        (models.CharField | models.TextField, lambda: f"rad-{uuid.uuid4().hex}"[: field.max_length or 40]),
        (models.BooleanField, lambda: False),
        (models.DateTimeField, timezone.now),
        (models.DateField, timezone.localdate),
        (models.DurationField, lambda: datetime.timedelta(hours=1)),
        (models.FloatField | models.DecimalField | models.IntegerField, lambda: 1),
        (models.JSONField, dict),
        (models.BinaryField, lambda: b"rad"),
    ]
    return next(make for kind, make in kinds if isinstance(field, kind))()


def _row(model, *, fresh: bool = False):
    """A row of ``model``: the first there is, else one made of its required fields."""
    if not fresh and (row := model._default_manager.order_by("pk").first()) is not None:
        return row
    if model is AuthToken:
        return AuthToken.objects.create(user=_row(get_user_model()))[0]  # (token, its secret)
    values = {
        field.name: _value(field)
        for field in model._meta.concrete_fields
        if not (
            field.auto_created
            or field.has_default()
            or field.null
            or getattr(field, "auto_now", False)
            or getattr(field, "auto_now_add", False)
        )
    }
    return model._default_manager.create(**values)


def _frames(page: str) -> list[str]:
    """The texts of a page the admin words around model names: its title, headings,
    breadcrumbs, filter titles, the delete page's question and the names of the related rows
    it lists, the models named in the side menu."""
    frames = re.findall(r"<(title|h1|h2|p)\b[^>]*>(.*?)</\1>", page, flags=re.S)
    texts = [text for _tag, text in frames]
    texts += re.findall(r'<div class="breadcrumbs">(.*?)</div>', page, flags=re.S)
    texts += re.findall(r'data-filter-title="([^"]*)"', page)
    texts += re.findall(r"<summary>(.*?)</summary>", page, flags=re.S)
    texts += re.findall(r'<th scope="row"[^>]*>(.*?)</th>', page, flags=re.S)
    for items in re.findall(r'<ul id="deleted-objects">(.*?)</ul>\s*(?:</div>|<)', page, flags=re.S):
        texts += re.findall(r"<li>([^<:]*):", items)
    texts += re.findall(r"<li>([^<:]*): \d+</li>", page)  # the delete page's summary
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split()) for text in texts]


def _english_names() -> dict[str, re.Pattern]:
    """Every registered model's English names (a name left untranslated among them)."""
    names = {}
    for model in admin.site._registry:
        meta = model._meta
        for name in (meta.verbose_name, meta.verbose_name_plural):
            with translation.override("en"):
                english = str(name)
            names[english] = re.compile(rf"(?<![\w-]){re.escape(english)}(?![\w-])", re.I)
    return names


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser("drift-sider", "s@example.org", "pw-1234567")


@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda model: model._meta.label)
def test_every_page_of_every_model_names_it_in_bokmal(superuser, model):
    meta = model._meta
    row = _row(model)
    client = Client()
    client.force_login(superuser)
    base = f"admin:{meta.app_label}_{meta.model_name}"
    changelist = reverse(f"{base}_changelist")
    pages = {
        kind: client.get(reverse(f"{base}_{kind}", args=args))
        for kind, args in (
            ("changelist", []),
            ("add", []),
            ("change", [row.pk]),
            ("delete", [row.pk]),
            ("history", [row.pk]),
        )
    }
    if 'value="delete_selected"' in pages["changelist"].content.decode():
        pages["delete selected"] = client.post(changelist, {"action": "delete_selected", "_selected_action": [row.pk]})
    assert {kind: page.status_code for kind, page in pages.items()} == {
        kind: 403 if kind in ("add", "delete") and page.status_code == 403 else 200 for kind, page in pages.items()
    }
    english, plural = _english_names(), capfirst(str(meta.verbose_name_plural))
    for kind, page in pages.items():
        if page.status_code != 200:
            continue
        content = page.content.decode().replace(html.escape(str(row)), "").replace(str(row), "")
        frames = _frames(content)
        assert [text for text in frames if ENGLISH_FRAMES.search(text)] == [], kind
        assert [(name, text) for text in frames for name, found in english.items() if found.search(text)] == [], kind
        crumbs = " ".join(_frames(re.search(r'<div class="breadcrumbs">.*?</div>', content, flags=re.S).group()))
        assert plural in crumbs, kind


@pytest.mark.parametrize(
    "model",
    [model for model, model_admin in admin.site._registry.items() if model_admin.list_filter],
    ids=lambda model: model._meta.label,
)
def test_every_list_filter_is_titled_in_bokmal(rf, superuser, model):
    """The titles of a list's filters ("Etter ..."): a field's name, a filter's own title."""
    request = rf.get("/")
    request.user = superuser
    filters = admin.site._registry[model].get_changelist_instance(request).filter_specs
    assert filters

    def titles(language):
        with translation.override(language):
            return [str(spec.title) for spec in filters]

    left = [title for title, english in zip(titles("nb"), titles("en"), strict=True) if title == english]
    assert [title for title in left if title.casefold() not in SAME_IN_BOKMAL] == []


def test_a_users_sign_in_devices_and_tokens_are_named_in_bokmal_where_they_are_deleted(superuser, django_user_model):
    """The pages an operator meets for a lost phone or a leaked token: the user's delete page
    lists the user's devices and tokens by their model's name, the device's and the token's
    delete pages ask in bokmål, the lists' bulk delete too."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = django_user_model.objects.create_user("enhet-og-nokkel", password="x")
    device = TOTPDevice.objects.create(user=user, name="telefon", confirmed=True)
    token = AuthToken.objects.create(user=user)[0]
    client = Client()
    client.force_login(superuser)
    shown = {}
    for name, url, form in (
        ("user", reverse("admin:auth_user_delete", args=[user.pk]), None),
        ("device", reverse("admin:otp_totp_totpdevice_delete", args=[device.pk]), None),
        ("token", reverse("admin:knox_authtoken_delete", args=[token.pk]), None),
        ("devices", reverse("admin:otp_totp_totpdevice_changelist"), [device.pk]),
        ("tokens", reverse("admin:knox_authtoken_changelist"), [token.pk]),
    ):
        page = (
            client.get(url)
            if form is None
            else client.post(url, {"action": "delete_selected", "_selected_action": form})
        )
        assert page.status_code == 200, name
        shown[name] = " ".join(_frames(page.content.decode()))
    assert "API-nøkkel" in shown["user"] and "Autentiseringsapp" in shown["user"]
    assert "vil slette autentiseringsapp «telefon (enhet-og-nokkel)»?" in shown["device"]
    assert f"vil slette API-nøkkel «{token}»?" in shown["token"]
    assert "vil slette valgte autentiseringsapp?" in shown["devices"]
    assert "vil slette valgte API-nøkkel?" in shown["tokens"]
    english = _english_names()
    assert [name for name, found in english.items() for text in shown.values() if found.search(text)] == []


def test_the_add_pages_and_the_bulk_delete_read_as_bokmal_for_every_gender(superuser, django_user_model, agencies):
    """Django's bokmål said "Legg til ny medlemskap" (an adjective for a masculine or feminine
    noun, before a neuter one) and "Er du sikker på vil slette det valgte medlemskap?"
    (config/library_locale says them for every model)."""
    client = Client()
    client.force_login(superuser)
    add = client.get(reverse("admin:permissions_membership_add")).content.decode()
    assert _texts(add, r"<h1>(.*?)</h1>") == {"legg til medlemskap"}
    agency = client.get(reverse("admin:permissions_agency_change", args=[agencies["nav"].pk])).content.decode()
    assert 'title="Legg til gruppe"' in agency and "Legg til ny" not in agency  # the + beside a choice
    member = Membership.objects.filter(agency=agencies["nav"]).first()
    asked = client.post(
        reverse("admin:permissions_membership_changelist"),
        {"action": "delete_selected", "_selected_action": [member.pk]},
    )
    assert "Er du sikker på at du vil slette valgte medlemskap?" in " ".join(_frames(asked.content.decode()))


# --- a row's own name ------------------------------------------------------------------------
# What the admin calls a row (its ``__str__``): the change page's subtitle, the breadcrumbs,
# the delete page's question and list, the history, the messages ("... ble endret"), a foreign
# key's choices. Until 2026-12-07 many read English or codes: "medlem member @ NAV",
# "notification job 1 (pending)", "Task_a at x", "... erased ...", "Attempted Access: ...".


def _words(text: str) -> set[str]:
    return {word.casefold() for word in re.findall(r"[^\W\d_]{2,}", text)}


def _data_words(row) -> set[str]:
    """The words of what the row holds as free text (a name, a username, an id it was given),
    and of the rows it points to (each named by its own test): never a code a label stands for."""
    words = set()
    for field in row._meta.concrete_fields:
        if isinstance(field, models.ForeignKey):
            related = getattr(row, field.name)
            if related is not None:
                for language in ("en", "nb"):
                    with translation.override(language):
                        words |= _words(str(related))
            words |= _words(str(getattr(row, field.attname)))
        elif not field.choices:
            words |= _words(str(getattr(row, field.attname)))
    return words


def _english_in_name(row) -> list[str]:
    """The words of the row's name that read the same in English and bokmål and are none of
    its data: a word left in English, or a code instead of its label."""
    with translation.override("en"):
        english = str(row)
    with translation.override("nb"):
        bokmal = str(row)
    return sorted((_words(bokmal) & _words(english)) - _data_words(row) - SAME_IN_BOKMAL)


@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda model: model._meta.label)
def test_every_models_rows_are_named_in_bokmal(superuser, model):
    row = _row(model)
    assert _english_in_name(row) == [], str(row)
    meta = model._meta
    client = Client()
    client.force_login(superuser)
    page = client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[row.pk]))
    assert page.status_code == 200
    with translation.override("nb"):
        assert html.escape(str(row)) in page.content.decode()


def test_a_retention_rule_is_named_by_its_category_in_words():
    """A rule's category by its name ("helse"), "every" in words, its years as years: until
    2026-12-07 "* / health: 5"."""
    from retention.models import RetentionRule

    with translation.override("nb"):
        assert str(RetentionRule(process_key="", category="health", keep_years=5)) == "alle prosesser / helse: 5 år"
        assert str(RetentionRule(process_key="p", category="", keep_years=1)) == "p / alle kategorier: 1 år"


def test_an_incidents_kind_is_shown_by_its_label_in_the_list_its_filter_and_its_page(operator):
    """Until 2026-12-07 the list, its filter and the page showed the code ("webhook-failed",
    "expression-error"); the code stays the filter's value."""
    step = Incident.objects.create(kind="expression-error", element_id="Task_a", error="boom")
    Incident.objects.create(kind="webhook-failed", error="refused")
    changelist = reverse("admin:workflows_incident_changelist")
    with translation.override("nb"):
        content = operator.get(changelist).content.decode()
        assert "Feil i uttrykk" in content and "Feilet: Webhook" in content
        assert ">expression-error<" not in content and ">webhook-failed<" not in content
        filtered = operator.get(changelist, {"kind": "webhook-failed"}).content.decode()
        rows = filtered.split('id="result_list"')[1].split("</table>")[0]
        assert "Feilet: Webhook" in rows and "Feil i uttrykk" not in rows
        page = operator.get(reverse("admin:workflows_incident_change", args=[step.pk])).content.decode()
        assert "Feil i uttrykk" in page and "expression-error" not in page
        assert str(step) == "Feil i uttrykk ved Task_a"
