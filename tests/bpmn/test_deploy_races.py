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

from bpmn import services as bpmn_services
from bpmn.models import DeployRecord, ProcessDefinition
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
