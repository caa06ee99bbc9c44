"""Two deploys of one process at the same moment (PostgreSQL): a double click on the
modeler's deploy, or two admins with the same file. Sequentially the second deploy of
identical content answers with the version the first created (200, not a new version), and
a different content becomes the next version. At once, the second read the latest version
as it was before the first committed, and failed on the unique version number: 409 "try
again", for a deploy that had nothing wrong with it. Forced: both compile, then both store,
the first holding its transaction open a moment."""

import threading
import time

import pytest
from django.db.models.signals import pre_save

from bpmn import services as bpmn_services
from bpmn.models import DeployRecord, ProcessDefinition, ProcessDraft
from tests.threads import all_at_once
from tests.workflows.version_models import FORMS, model

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def deploy(xml):
    return bpmn_services.deploy_definition(actor=None, bpmn_xml=xml, forms=FORMS, check_permission=False)


@pytest.fixture
def meeting(monkeypatch):
    """Call it, then deploy twice at once: both compile before either stores, and the first
    to store waits before its commit."""

    def arm():
        _arm(monkeypatch)

    return arm


def _arm(monkeypatch):
    compiled = threading.Barrier(2, timeout=30)
    compile_ = bpmn_services._compiled
    record = bpmn_services._record_deploy
    first = threading.Lock()

    def compiled_then_meet(*args, **kwargs):
        result = compile_(*args, **kwargs)
        compiled.wait()
        return result

    def record_slowly(*args, **kwargs):
        record(*args, **kwargs)
        if first.acquire(blocking=False):
            time.sleep(0.5)  # the other deploy reads and waits meanwhile

    monkeypatch.setattr(bpmn_services, "_compiled", compiled_then_meet)
    monkeypatch.setattr(bpmn_services, "_record_deploy", record_slowly)


@pytest.mark.parametrize("earlier", [False, True], ids=["first-version", "next-version"])
def test_the_same_content_deployed_twice_at_once_makes_one_version(meeting, earlier):
    if earlier:
        deploy(model())
    meeting()
    before = ProcessDefinition.objects.count()
    xml = model(with_c=True)
    results = all_at_once([lambda: deploy(xml)] * 2)

    assert not any(isinstance(result, Exception) for result in results), results
    assert sorted(result.created for result in results) == [False, True]
    assert results[0].definition.pk == results[1].definition.pk
    assert ProcessDefinition.objects.count() == before + 1
    assert DeployRecord.objects.filter(definition=results[0].definition).count() == 2


def test_two_different_contents_deployed_at_once_make_two_versions(meeting):
    deploy(model())
    meeting()
    results = all_at_once([lambda: deploy(model(with_c=True)), lambda: deploy(model(a_name="Vurder"))])

    assert not any(isinstance(result, Exception) for result in results), results
    assert sorted(result.definition.version for result in results) == [2, 3]


def test_two_first_saves_of_a_draft_at_once_keep_one_and_refuse_the_other(users):
    """An admin with the editor open in two tabs, neither with a draft yet, saves in both at
    once. Sequentially the second is refused (the draft moved on since the tab opened, with
    who saved it); at once the second found no draft, lost the insert to the first and then
    overwrote it silently. Forced: both read (no draft) before either writes."""
    both_read = threading.Barrier(2, timeout=30)
    waited = threading.local()

    def meet(sender, **kwargs):
        if not getattr(waited, "done", False):
            waited.done = True
            both_read.wait()

    pre_save.connect(meet, sender=ProcessDraft)
    try:
        saved = all_at_once(
            [
                lambda name=name: bpmn_services.save_draft(
                    actor=users["ada"], key="versioned", bpmn_xml=model(a_name=name), forms=FORMS, base=None
                )
                for name in ("Fane en", "Fane to")
            ]
        )
    finally:
        pre_save.disconnect(meet, sender=ProcessDraft)

    drafts = [outcome for outcome in saved if isinstance(outcome, ProcessDraft)]
    refused = [outcome for outcome in saved if isinstance(outcome, bpmn_services.DraftConflict)]
    assert len(drafts) == 1 and len(refused) == 1, saved
    assert ProcessDraft.objects.get(key="versioned").bpmn_xml == drafts[0].bpmn_xml
    assert refused[0].draft.pk == drafts[0].pk


def test_a_discard_meeting_a_colleagues_save_keeps_the_save(users, django_user_model):
    """Ida saves the draft while Ada discards the one she opened: Ada's discard waits for
    Ida's save and then drops nothing (409, Ida named). Before, the discard had no base and
    deleted whatever draft it found once Ida's save committed: her newer work, gone. Forced:
    Ida's save holds the draft's row until Ada's discard waits for it."""
    from permissions.models import Membership, Role
    from tests.workflows.test_lock_order import _backend_pid, wait_until_blocked

    ida = django_user_model.objects.create_user("ida", first_name="Ida")
    for membership in Membership.objects.filter(user=users["ada"], role=Role.PROCESS_ADMIN):
        Membership.objects.create(user=ida, agency=membership.agency, role=Role.PROCESS_ADMIN)
    opened = bpmn_services.save_draft(actor=users["ada"], key="versioned", bpmn_xml=model(), forms=FORMS, base=None)
    base = opened.updated_at.isoformat()
    ida_holds, pids = threading.Event(), {}

    def hold_until_the_discard_waits(sender, instance, **kwargs):
        if instance.updated_by_id == ida.pk and not ida_holds.is_set():
            ida_holds.set()
            wait_until_blocked(pids, "discard")

    def ida_saves():
        return bpmn_services.save_draft(
            actor=ida, key="versioned", bpmn_xml=model(a_name="Idas"), forms=FORMS, base=base
        )

    def ada_discards():
        assert ida_holds.wait(timeout=30)
        pids["discard"] = _backend_pid()
        return bpmn_services.discard_draft(actor=users["ada"], key="versioned", base=base)

    pre_save.connect(hold_until_the_discard_waits, sender=ProcessDraft)
    try:
        saved, discarded = all_at_once([ida_saves, ada_discards])
    finally:
        pre_save.disconnect(hold_until_the_discard_waits, sender=ProcessDraft)

    assert isinstance(saved, ProcessDraft), saved
    assert isinstance(discarded, bpmn_services.DraftConflict) and discarded.draft.updated_by_id == ida.pk, discarded
    assert ProcessDraft.objects.get(key="versioned").bpmn_xml == model(a_name="Idas")
