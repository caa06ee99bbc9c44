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
