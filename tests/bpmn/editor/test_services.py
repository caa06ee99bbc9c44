"""Editor services on the database: the audit row of every deploy, drafts, validation."""

import pytest

from bpmn.models import DeployRecord, ProcessDraft
from bpmn.services import deploy_definition, save_draft, validate_draft
from core.errors import Forbidden
from tests.bpmn.editor.conftest import PRISON, without_default

pytestmark = pytest.mark.django_db


def test_every_deploy_writes_an_audit_row_with_actor_version_and_checksum(users, shipped):
    first = DeployRecord.objects.get(key=PRISON)
    assert (first.version, first.created, first.actor) == (1, True, None)
    assert first.checksum == shipped[PRISON].checksum
    result = deploy_definition(actor=users["ada"], bpmn_xml=shipped[PRISON].bpmn_xml, forms=shipped[PRISON].forms)
    assert not result.created
    latest = DeployRecord.objects.filter(key=PRISON).first()
    assert (latest.version, latest.created, latest.actor) == (1, False, users["ada"])


def test_a_refused_deploy_writes_no_audit_row(users, shipped):
    from bpmn.services import InvalidModel

    with pytest.raises(InvalidModel):
        deploy_definition(
            actor=users["ada"], bpmn_xml=without_default(shipped[PRISON].bpmn_xml), forms=shipped[PRISON].forms
        )
    assert DeployRecord.objects.filter(key=PRISON).count() == 1


def test_the_audit_row_rolls_back_with_the_deploy(users, shipped, monkeypatch):
    from bpmn import services

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "_record_deploy", broken)
    xml = shipped[PRISON].bpmn_xml.replace('name="Finn bolig"', 'name="Finn en bolig"')
    with pytest.raises(RuntimeError):
        deploy_definition(actor=users["ada"], bpmn_xml=xml, forms=shipped[PRISON].forms)
    assert shipped[PRISON].__class__.objects.filter(key=PRISON).count() == 1


@pytest.mark.parametrize("username", ["nils", "aud", "kari"])
def test_only_process_admins_save_drafts_and_validate(users, shipped, username):
    with pytest.raises(Forbidden):
        save_draft(actor=users[username], key=PRISON, bpmn_xml="<x/>", forms={})
    with pytest.raises(Forbidden):
        validate_draft(actor=users[username], bpmn_xml=shipped[PRISON].bpmn_xml, forms={})
    assert not ProcessDraft.objects.exists()


def test_a_draft_is_kept_even_when_it_does_not_validate(users, shipped):
    draft = save_draft(actor=users["ada"], key=PRISON, bpmn_xml="<not-bpmn/>", forms={"a.json": {}})
    assert draft.forms == {"a.json": {}}
    result = validate_draft(actor=users["ada"], bpmn_xml="<not-bpmn/>", forms={})
    assert not result.valid and result.issues[0]["code"]
