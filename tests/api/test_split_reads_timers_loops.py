"""The follow-on and message payload checks read a field's splits through
``DefinitionRuntime.split_reads_of``: timers and loops that split count as gateways do
(h-paths5: checked, as the closing note of h-attack14 left it open; it held already, since
``gateway_paths`` holds every split, ``timer_paths`` and ``loop_paths`` with the gateways)."""

import pytest

from bpmn.registry import runtime_for
from bpmn.services import deploy_definition

from .test_loop_count_inference import loop_model
from .test_script_variable_inference import FORMS

pytestmark = pytest.mark.django_db


def test_a_field_a_looped_task_writes_carries_what_the_loop_s_count_reads():
    definition = deploy_definition(actor=None, bpmn_xml=loop_model(), forms=FORMS, check_permission=False)
    runtime = runtime_for(definition.definition.pk)
    assert "needs_treatment" in runtime.split_reads_of({"paid"})


def test_a_field_the_task_a_data_timer_creates_writes_carries_what_the_timer_reads(shipped):
    runtime = runtime_for(shipped["eviction_prevention"])
    written = runtime.branch_writers["Task_escalate_eviction"]
    assert written and "eviction_date" in runtime.split_reads_of(written)


def test_a_connector_s_input_of_a_field_a_branch_wrote_carries_what_the_split_read():
    """What leaves for an agency's system (``workflows.jobs.service.service_inputs_and_reads``)
    reads a field with ``script_sources``, in which a field a step on a branch writes carries
    what the split read (``paths_and_sources(writes=)``, h-paths4): ``receivable_fields``
    withholds it from an agency that may not see that."""
    from bpmn.engine.element_needs import with_sources

    from .test_branch_written_data import FORMS as BRANCH_FORMS
    from .test_branch_written_data import model

    definition = deploy_definition(actor=None, bpmn_xml=model(), forms=BRANCH_FORMS, check_permission=False)
    runtime = runtime_for(definition.definition.pk)
    assert "needs_treatment" in with_sources({"treatment_home_plan"}, runtime.script_sources)
