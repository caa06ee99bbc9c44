"""The retention rules through the API (issue 17, point 1): process admins add, change and
delete them; auditors read them and every change (who, when, which rule, before and after);
every other role is refused and writes nothing. The API shares the page's service, so its
validation and its log of changes."""

import pytest

from retention.models import RetentionRule, RetentionRuleChange
from retention.services import save_retention_rule
from tests.clients import api
from tests.threads import all_at_once

pytestmark = pytest.mark.postgres

RULES = "/api/v1/retention-rules/"
CHANGES = "/api/v1/retention-rules/changes/"
PROCESS = "prison_release_to_housing"
RULE = {
    "process_key": PROCESS,
    "category": "health",
    "keep_years": 10,
    "access_log_years": 3,
    "in_case_file": True,
    "legal_basis": "Bevarings- og kassasjonsvedtak 2026/14",
}


def _rule(**values):
    return RetentionRule.objects.create(**{**RULE, **values})


@pytest.mark.django_db
def test_a_change_is_logged_with_who_when_and_the_values_before_and_after(users, shipped):
    ada = api(users["ada"])
    created = ada.post(RULES, RULE, format="json")
    assert created.status_code == 201, created.json()
    rule_id = created.json()["id"]
    assert created.json()["version"] == 1
    changed = ada.patch(f"{RULES}{rule_id}/", {"keep_years": 7, "version": 1}, format="json")
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["keep_years"], changed.json()["legal_basis"], changed.json()["version"]) == (
        7,
        RULE["legal_basis"],
        2,
    )
    assert ada.patch(f"{RULES}{rule_id}/", {"keep_years": 7}, format="json").status_code == 200  # no change
    assert ada.delete(f"{RULES}{rule_id}/?version=2").status_code == 204
    assert not RetentionRule.objects.exists()

    trail = api(users["aud"]).get(CHANGES)
    assert trail.status_code == 200
    rows = trail.json()["results"]
    assert [(row["action"], row["rule"], row["changed_by"]) for row in rows] == [
        ("deleted", rule_id, "ada"),
        ("changed", rule_id, "ada"),
        ("created", rule_id, "ada"),
    ]
    deleted, change, create = rows
    assert create["before"] is None and create["after"] == {**RULE, "version": 1}
    assert change["before"] == {**RULE, "version": 1} and change["after"] == {**RULE, "keep_years": 7, "version": 2}
    assert deleted["before"] == change["after"] and deleted["after"] is None
    assert (deleted["process_key"], deleted["category"]) == (PROCESS, "health")
    assert create["changed_at"] <= change["changed_at"] <= deleted["changed_at"]


@pytest.mark.django_db
def test_the_auditor_reads_the_rules_but_changes_none(users, shipped):
    rule = _rule()
    aud = api(users["aud"])
    listed = aud.get(RULES)
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["results"]] == [rule.pk]
    assert aud.get(f"{RULES}{rule.pk}/").json()["legal_basis"] == RULE["legal_basis"]
    for answer in (
        aud.post(RULES, {**RULE, "category": "economy"}, format="json"),
        aud.patch(f"{RULES}{rule.pk}/", {"keep_years": 1}, format="json"),
        aud.delete(f"{RULES}{rule.pk}/"),
    ):
        assert answer.status_code == 403
    rule.refresh_from_db()
    assert (rule.keep_years, RetentionRule.objects.count(), RetentionRuleChange.objects.exists()) == (10, 1, False)
    assert api(users["ada"]).get(CHANGES).status_code == 403  # the trail is the auditors'


# A caseworker and a participant of other agencies, the coordinator, a leader, a
# municipality leader and a user of no agency.
@pytest.mark.django_db
@pytest.mark.parametrize("username", ["kari", "nils", "helga", "bjorn", "lise", "leif", "nina", "oscar"])
def test_nobody_else_reads_or_changes_the_rules_or_their_trail(users, shipped, username):
    rule = _rule()
    save_retention_rule(actor=users["ada"], values={"keep_years": 8}, rule_id=rule.pk)
    client = api(users[username])
    for answer in (
        client.get(RULES),
        client.get(f"{RULES}{rule.pk}/"),
        client.get(f"{RULES}999999/"),
        client.get(CHANGES),
        client.post(RULES, {**RULE, "category": "economy"}, format="json"),
        client.post(RULES, {"keep_years": "x"}, format="json"),  # nor learns what a write needs
        client.patch(f"{RULES}{rule.pk}/", {"keep_years": 1}, format="json"),
        client.delete(f"{RULES}{rule.pk}/"),
    ):
        assert answer.status_code == 403, answer.json()
        text = answer.content.decode()
        assert "Bevarings- og kassasjonsvedtak" not in text and "keep_years" not in text
    assert list(RetentionRule.objects.values_list("category", "keep_years")) == [("health", 8)]
    assert RetentionRuleChange.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**RULE, "keep_years": 0}, "keep_years"),
        ({**RULE, "keep_years": "tre"}, "keep_years"),
        ({**RULE, "keep_years": True}, "keep_years"),
        ({**RULE, "access_log_years": 0}, "access_log_years"),  # the log must outlive the data
        ({**RULE, "access_log_years": None}, "access_log_years"),
        ({**RULE, "access_log_years": 101}, "access_log_years"),
        ({**RULE, "process_key": "no_such_process"}, "process_key"),
        ({**RULE, "category": "secrets"}, "category"),
        ({**RULE, "category": ["health"]}, "category"),
        ({**RULE, "legal_basis": ""}, "legal_basis"),
        ({**RULE, "legal_basis": "x" * 301}, "legal_basis"),
        ({**RULE, "in_case_file": "yes"}, "in_case_file"),
        ({**RULE, "keep_yeers": 3}, "keep_yeers"),
        ({**RULE, "version": "one"}, "version"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_in_bokmal_with_nothing_written(users, shipped, body, field):
    ada = api(users["ada"])
    rule = _rule(category="")
    for answer in (
        ada.post(RULES, body, format="json", HTTP_ACCEPT_LANGUAGE="nb"),
        ada.patch(f"{RULES}{rule.pk}/", body, format="json", HTTP_ACCEPT_LANGUAGE="nb"),
    ):
        assert answer.status_code == 400, answer.json()
        errors = answer.json()["errors"]
        assert [error["field"] for error in errors] == [field], errors
        assert answer.json()["detail"] == "regelen for oppbevaring er ikke gyldig"
        assert errors[0]["message"] != ""
    rule.refresh_from_db()
    assert (RetentionRule.objects.count(), rule.keep_years, rule.category, rule.version) == (1, 10, "", 1)
    assert not RetentionRuleChange.objects.exists()


@pytest.mark.django_db
def test_a_duplicate_and_a_stale_version_write_nothing(users, shipped):
    ada = api(users["ada"])
    rule = _rule()
    duplicate = ada.post(RULES, {**RULE, "keep_years": 2}, format="json")
    assert duplicate.status_code == 400 and [e["field"] for e in duplicate.json()["errors"]] == ["category"]
    assert ada.patch(f"{RULES}{rule.pk}/", {"keep_years": 4, "version": 1}, format="json").status_code == 200
    stale = ada.patch(f"{RULES}{rule.pk}/", {"keep_years": 5, "version": 1}, format="json")
    assert stale.status_code == 409 and stale.json()["code"] == "retention.rule_changed"
    assert ada.delete(f"{RULES}{rule.pk}/?version=1").status_code == 409
    assert ada.patch(f"{RULES}999999/", {"keep_years": 5}, format="json").status_code == 404
    rule.refresh_from_db()
    assert (rule.keep_years, rule.version) == (4, 2)
    assert RetentionRuleChange.objects.count() == 1


@pytest.mark.django_db
def test_the_schema_documents_the_rules_and_their_trail(client):
    paths = client.get("/api/v1/schema/?format=json").json()["paths"]
    assert set(paths["/api/v1/retention-rules/"]) >= {"get", "post"}
    assert set(paths["/api/v1/retention-rules/{id}/"]) >= {"get", "patch", "delete"}
    assert set(paths["/api/v1/retention-rules/changes/"]) >= {"get"}
    responses = paths["/api/v1/retention-rules/{id}/"]["patch"]["responses"]
    assert {"200", "400", "403", "404", "409"} <= set(responses)


@pytest.mark.django_db(transaction=True)
def test_two_changes_from_one_version_at_once_exactly_one_wins(users):
    rule = _rule(process_key="")
    ada = users["ada"]
    outcomes = all_at_once(
        [
            lambda: save_retention_rule(actor=ada, values={"keep_years": 7, "version": 1}, rule_id=rule.pk),
            lambda: save_retention_rule(actor=ada, values={"access_log_years": 9, "version": 1}, rule_id=rule.pk),
        ]
    )
    won = [outcome for outcome in outcomes if isinstance(outcome, RetentionRule)]
    lost = [outcome for outcome in outcomes if not isinstance(outcome, RetentionRule)]
    assert len(won) == 1 and [getattr(exc, "code", exc) for exc in lost] == ["retention.rule_changed"]
    rule.refresh_from_db()
    assert (rule.keep_years, rule.access_log_years) in ((7, 3), (10, 9)) and rule.version == 2
    (change,) = RetentionRuleChange.objects.all()
    assert change.before["version"] == 1 and change.after == {**change.after, "version": 2}


@pytest.mark.django_db(transaction=True)
def test_two_changes_without_a_version_at_once_both_apply_one_after_the_other(users):
    rule = _rule(process_key="")
    ada = users["ada"]
    outcomes = all_at_once(
        [
            lambda: save_retention_rule(actor=ada, values={"keep_years": 7}, rule_id=rule.pk),
            lambda: save_retention_rule(actor=ada, values={"access_log_years": 9}, rule_id=rule.pk),
        ]
    )
    assert all(isinstance(outcome, RetentionRule) for outcome in outcomes), outcomes
    rule.refresh_from_db()
    assert (rule.keep_years, rule.access_log_years, rule.version) == (7, 9, 3)  # no update lost
    first, second = RetentionRuleChange.objects.order_by("id")
    assert second.before == first.after  # each from the values the other left
    assert (first.before["version"], second.after["version"]) == (1, 3)
