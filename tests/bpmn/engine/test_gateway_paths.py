"""What a gateway's path gives away (``bpmn.engine.gateway_paths``)."""

from pathlib import Path

from bpmn.engine.gateway_paths import gateway_paths

PROCESSES = Path(__file__).resolve().parents[3] / "bpmn" / "processes"


def test_the_prison_release_gateway_reads_has_home_and_hides_both_branches_only():
    paths = gateway_paths((PROCESSES / "prison_release_to_housing.bpmn").read_bytes())
    path = paths["Gateway_has_home"]
    assert path.reads == {"has_home"}
    # Either branch's work, the timers on it and a sub-process's inside show the path ...
    assert {"Task_secure_rent", "Task_find_home", "BoundaryEvent_no_home_timer", "Task_follow_up_visit"} <= (
        path.branch_elements
    )
    # ... what comes before the gateway and what every branch reaches does not.
    assert not {"Task_intake_interview", "StartEvent_admission", "Gateway_has_home"} & path.branch_elements


def test_a_gateway_whose_conditions_read_no_data_gives_nothing_away():
    xml = (PROCESSES / "eviction_prevention.bpmn").read_text()
    assert set(gateway_paths(xml)) == {"Gateway_agreement", "Gateway_other_home"}
    assert gateway_paths(xml)["Gateway_other_home"].reads == {"other_home_found"}


def test_a_field_named_like_a_function_is_read_where_it_is_not_called():
    """A form field named ``date`` hides the function in a condition's data: before, a
    gateway on ``date < '2026-06-01'`` counted as reading nothing, and a reader who does not
    see that field was shown the branch taken. ``len(...)`` called is still no field."""
    from tests.bpmn.engine.bpmn_snippets import definitions

    xml = definitions("""
        <bpmn:process id="Proc_dated" isExecutable="true">
          <bpmn:startEvent id="Start"/>
          <bpmn:sequenceFlow id="F0" sourceRef="Start" targetRef="Gateway_date"/>
          <bpmn:exclusiveGateway id="Gateway_date" default="F_late"/>
          <bpmn:sequenceFlow id="F_early" sourceRef="Gateway_date" targetRef="Task_early">
            <bpmn:conditionExpression>date &lt; '2026-06-01' and len(notes) &gt; 0</bpmn:conditionExpression>
          </bpmn:sequenceFlow>
          <bpmn:sequenceFlow id="F_late" sourceRef="Gateway_date" targetRef="Task_late"/>
          <bpmn:userTask id="Task_early"/>
          <bpmn:userTask id="Task_late"/>
          <bpmn:sequenceFlow id="F1" sourceRef="Task_early" targetRef="End"/>
          <bpmn:sequenceFlow id="F2" sourceRef="Task_late" targetRef="End"/>
          <bpmn:endEvent id="End"/>
        </bpmn:process>
    """)
    assert gateway_paths(xml)["Gateway_date"].reads == {"date", "notes"}


def test_many_messages_of_one_name_cost_no_edge_per_throw_and_catch():
    """Every throw of a name reached every catch of it by an edge of its own: 2,000 of each
    were 4 million edges (1.8 s at deploy and at each worker's first use of the version; a
    5 MB model, gigabytes). They meet at one node per name now, never in an answer."""
    import time

    from bpmn.engine.gateway_paths import path_splits

    pairs = "".join(
        f'<bpmn:intermediateThrowEvent id="T{i}"><bpmn:messageEventDefinition messageRef="M"/>'
        f"</bpmn:intermediateThrowEvent>"
        f'<bpmn:intermediateCatchEvent id="C{i}"><bpmn:messageEventDefinition messageRef="M"/>'
        f"</bpmn:intermediateCatchEvent>"
        for i in range(3000)
    )
    xml = (
        '<?xml version="1.0"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'id="d" targetNamespace="x"><bpmn:message id="M" name="m"/><bpmn:process id="P" isExecutable="true">'
        '<bpmn:startEvent id="S"/><bpmn:sequenceFlow id="f1" sourceRef="S" targetRef="G"/>'
        '<bpmn:exclusiveGateway id="G" default="f3"/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="G" targetRef="T0"><bpmn:conditionExpression>x == 1'
        "</bpmn:conditionExpression></bpmn:sequenceFlow>"
        '<bpmn:sequenceFlow id="f3" sourceRef="G" targetRef="E"/><bpmn:endEvent id="E"/>'
        f"{pairs}</bpmn:process></bpmn:definitions>"
    )
    started = time.process_time()
    (path,) = path_splits(xml).values()
    assert time.process_time() - started < 0.5  # 4.6 s before
    assert "T0" in path.branch_elements and "C2999" in path.branch_elements
    assert all(element.isprintable() for element in path.branch_elements)
