"""The retention rules' pages: a process admin sets how long each process's data and
access log are kept and what goes into the archived case file; the retention job then
follows the rule. Everyone else is refused and changes nothing."""

import pytest
from django.test import Client

from retention.models import RetentionRule, RetentionRuleChange
from retention.rules import rules_for_process

pytestmark = pytest.mark.postgres

PROCESS = "prison_release_to_housing"
RULE = {
    "process_key": PROCESS,
    "category": "health",
    "keep_years": "10",
    "access_log_years": "3",
    "legal_basis": "Bevarings- og kassasjonsvedtak 2026/14",
}


@pytest.fixture
def web(users):
    def make(username):
        client = Client()
        client.force_login(users[username])
        return client

    return make


def test_the_process_admin_sets_a_rule_that_the_retention_job_follows(web, shipped):
    ada = web("ada")
    page = ada.get("/retention/rules/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Oppbevaring" in text and 'href="/retention/rules/"' in text  # the menu entry
    assert "5 år etter at saken er avsluttet" in text  # the documented default
    form = ada.get("/retention/rules/new/").content.decode()
    assert "Løslatelse fra fengsel til bolig" in form and "Helse" in form  # the process and category in words

    answer = ada.post("/retention/rules/new/", {**RULE, "in_case_file": "on"})
    assert answer.status_code == 302 and answer["Location"] == "/retention/rules/"
    rule = RetentionRule.objects.get()
    assert (rule.process_key, rule.category, rule.keep_years, rule.access_log_years, rule.in_case_file) == (
        PROCESS,
        "health",
        10,
        3,
        True,
    )
    in_force = rules_for_process(PROCESS)["health"]
    assert (in_force.keep_years, in_force.rule_id) == (10, rule.pk)
    listed = ada.get("/retention/rules/").content.decode()
    assert "Bevarings- og kassasjonsvedtak 2026/14" in listed and "Løslatelse fra fengsel til bolig" in listed

    changed = ada.post(f"/retention/rules/{rule.pk}/", {**RULE, "keep_years": "7"})
    assert changed.status_code == 302
    rule.refresh_from_db()
    assert (rule.keep_years, rule.in_case_file) == (7, False)

    assert ada.post(f"/retention/rules/{rule.pk}/delete/").status_code == 302
    assert not RetentionRule.objects.exists()
    assert rules_for_process(PROCESS)["health"].rule_id is None  # the default again


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"keep_years": "0"}, "keep_years"),
        ({"keep_years": "tre"}, "keep_years"),
        ({"access_log_years": "101"}, "access_log_years"),
        ({"process_key": "no_such_process"}, "process_key"),
        ({"category": "secrets"}, "category"),
        ({"legal_basis": ""}, "legal_basis"),
        ({"legal_basis": "x" * 301}, "legal_basis"),
    ],
)
def test_a_bad_rule_answers_400_naming_the_field_and_saves_nothing(web, shipped, change, field):
    answer = web("ada").post("/retention/rules/new/", {**RULE, **change})
    assert answer.status_code == 400
    assert 'id="retention-rule-' in answer.content.decode() and 'aria-invalid="true"' in answer.content.decode()
    assert not RetentionRule.objects.exists()
    assert not RetentionRuleChange.objects.exists()
    page = answer.content.decode()
    ids = {
        "keep_years": "retention-rule-keep-error",
        "access_log_years": "retention-rule-log-error",
        "process_key": "retention-rule-process-error",
        "category": "retention-rule-category-error",
        "legal_basis": "retention-rule-basis-error",
    }
    assert f'id="{ids[field]}"' in page
    assert [name for name, error_id in ids.items() if f'id="{error_id}"' in page] == [field]


def test_a_second_rule_for_the_same_process_and_category_is_refused(web, shipped):
    ada = web("ada")
    ada.post("/retention/rules/new/", RULE)
    answer = ada.post("/retention/rules/new/", {**RULE, "keep_years": "2"})
    assert answer.status_code == 400 and 'id="retention-rule-category-error"' in answer.content.decode()
    assert list(RetentionRule.objects.values_list("keep_years", flat=True)) == [10]


# A caseworker of another agency, the coordinator, a leader and a user of no agency: the
# rules are the process admins' to write (and the auditors' to read).
@pytest.mark.parametrize("username", ["kari", "nils", "bjorn", "lise", "leif", "nina", "oscar"])
def test_nobody_but_a_process_admin_reads_or_changes_the_rules(web, shipped, username):
    rule = RetentionRule.objects.create(**{**RULE, "keep_years": 10, "access_log_years": 3})
    client = web(username)
    assert client.get("/retention/rules/").status_code == 403
    assert client.get("/retention/rules/new/").status_code == 403
    assert client.get(f"/retention/rules/{rule.pk}/").status_code == 403
    for answer in (
        client.post("/retention/rules/new/", {**RULE, "category": "economy"}),
        client.post(f"/retention/rules/{rule.pk}/", {**RULE, "keep_years": "1"}),
        client.post(f"/retention/rules/{rule.pk}/delete/"),
    ):
        assert answer.status_code == 403
        assert "Bevarings- og kassasjonsvedtak" not in answer.content.decode()
    assert list(RetentionRule.objects.values_list("process_key", "category", "keep_years")) == [(PROCESS, "health", 10)]
    assert 'href="/retention/rules/"' not in client.get("/cases/").content.decode()  # no menu entry
    assert client.get("/retention/").status_code == 403  # nor the trail of the rules' changes
    assert not RetentionRuleChange.objects.exists()


def test_the_auditor_reads_the_rules_and_every_change_but_changes_none(web, shipped):
    ada, aud = web("ada"), web("aud")
    ada.post("/retention/rules/new/", RULE)
    rule = RetentionRule.objects.get()
    ada.post(f"/retention/rules/{rule.pk}/", {**RULE, "keep_years": "7", "version": "1"})
    ada.post(f"/retention/rules/{rule.pk}/delete/", {"version": "2"})
    assert not RetentionRule.objects.exists()

    trail = aud.get("/retention/")
    assert trail.status_code == 200
    page = trail.content.decode()
    changes = list(RetentionRuleChange.objects.order_by("id"))
    assert [(c.action, c.rule_id, c.changed_by.username) for c in changes] == [
        ("created", rule.pk, "ada"),
        ("changed", rule.pk, "ada"),
        ("deleted", rule.pk, "ada"),
    ]
    changed = page.split(f'id="retention-rule-change-{changes[1].pk}"')[1].split("</tr>")[0]
    assert "Endret" in changed and f"Regel {rule.pk}: Løslatelse fra fengsel til bolig / Helse" in changed
    assert "År oppbevart: fra 10 til 7" in changed
    assert "Hjemmel" not in changed  # only what changed
    deleted = page.split(f'id="retention-rule-change-{changes[2].pk}"')[1].split("</tr>")[0]
    assert "Bevarings- og kassasjonsvedtak 2026/14" in deleted and "Slettet" in deleted

    RetentionRule.objects.create(**{**RULE, "keep_years": 10, "access_log_years": 3})
    listed = aud.get("/retention/rules/")
    assert listed.status_code == 200 and "Bevarings- og kassasjonsvedtak 2026/14" in listed.content.decode()
    assert 'id="add-retention-rule"' not in listed.content.decode()
    assert 'id="edit-retention-rule-' not in listed.content.decode()
    rule = RetentionRule.objects.get()
    for answer in (
        aud.get("/retention/rules/new/"),
        aud.get(f"/retention/rules/{rule.pk}/"),
        aud.post("/retention/rules/new/", {**RULE, "category": "economy"}),
        aud.post(f"/retention/rules/{rule.pk}/", {**RULE, "keep_years": "1"}),
        aud.post(f"/retention/rules/{rule.pk}/delete/"),
    ):
        assert answer.status_code == 403
    assert list(RetentionRule.objects.values_list("keep_years", flat=True)) == [10]
    assert RetentionRuleChange.objects.count() == 3
    assert ada.get("/retention/").status_code == 403  # the process admin reads the rules, not the trail


def test_a_form_read_before_another_change_does_not_overwrite_it(web, shipped):
    ada = web("ada")
    ada.post("/retention/rules/new/", RULE)
    rule = RetentionRule.objects.get()
    form = ada.get(f"/retention/rules/{rule.pk}/").content.decode()
    assert 'name="version" value="1"' in form
    assert ada.post(f"/retention/rules/{rule.pk}/", {**RULE, "keep_years": "7", "version": "1"}).status_code == 302
    stale = ada.post(f"/retention/rules/{rule.pk}/", {**RULE, "access_log_years": "9", "version": "1"}, follow=True)
    assert "er endret siden du leste den" in stale.content.decode()
    rule.refresh_from_db()
    assert (rule.keep_years, rule.access_log_years, rule.version) == (7, 3, 2)
    assert ada.post(f"/retention/rules/{rule.pk}/delete/", {"version": "1"}).status_code == 302
    assert RetentionRule.objects.filter(pk=rule.pk).exists()
    assert list(RetentionRuleChange.objects.values_list("action", flat=True).order_by("id")) == ["created", "changed"]


def test_an_unknown_rule_is_404_for_the_process_admin(web, shipped):
    ada = web("ada")
    assert ada.get("/retention/rules/999999/").status_code == 404
    assert ada.post("/retention/rules/999999/", RULE).status_code == 404
    assert not RetentionRule.objects.exists()
