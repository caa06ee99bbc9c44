"""Version differences: elements added, removed and changed, by id, layout ignored."""

from bpmn.diff import diff_versions
from tests.conftest import PROCESSES

XML = (PROCESSES / "prison_release_to_housing.bpmn").read_text(encoding="utf-8")


def test_identical_versions_have_no_difference():
    assert diff_versions(XML, XML).empty


def test_moving_a_shape_is_not_a_change():
    moved = XML.replace('<dc:Bounds x="', '<dc:Bounds x="1', 1)
    assert moved != XML and diff_versions(XML, moved).empty


def test_a_renamed_task_a_removed_default_and_a_new_timer_value_are_changes():
    new = XML.replace('name="Søknad om bolig"', 'name="Søk bolig"')
    new = new.replace('name="Har personen bolig?" default="Flow_no_home"', 'name="Har personen bolig?"')
    new = new.replace('"09:00")</bpmn:timeDate>', '"10:00")</bpmn:timeDate>')
    diff = diff_versions(XML, new)
    changed = {change.element_id: change for change in diff.changed}
    assert set(changed) == {"Task_housing_application", "Gateway_has_home", "BoundaryEvent_no_home_timer"}
    assert changed["Gateway_has_home"].details == ("attributes: default",)
    assert changed["BoundaryEvent_no_home_timer"].details == ("timerEventDefinition",)
    assert not diff.added and not diff.removed


def test_added_and_removed_elements_are_listed_by_id_and_type():
    new = XML.replace('<bpmn:endEvent id="EndEvent_closed"', '<bpmn:endEvent id="EndEvent_closed_2"')
    diff = diff_versions(XML, new)
    assert [(c.element_id, c.kind) for c in diff.added] == [("EndEvent_closed_2", "endEvent")]
    assert [c.element_id for c in diff.removed] == ["EndEvent_closed"]
    assert diff.as_dict()["added"] == ["EndEvent_closed_2"]


def test_a_changed_form_marks_the_user_task_that_uses_it():
    forms = {"prison_find_home.schema.json": {"type": "object", "properties": {}}}
    changed_forms = {"prison_find_home.schema.json": {"type": "object", "properties": {"a": {"type": "string"}}}}
    diff = diff_versions(XML, XML, forms, changed_forms)
    assert [(c.element_id, c.details) for c in diff.changed] == [
        ("Task_find_home", ("form prison_find_home.schema.json",))
    ]
