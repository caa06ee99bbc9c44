"""Exception texts without values of case data (``bpmn.engine.scrub``; issue 11, point 3)."""

import pytest

from bpmn.engine import runtime as engine
from bpmn.engine.definition import compile_definition
from bpmn.engine.errors import TaskFailed
from bpmn.engine.scrub import MASK, error_class, literals, scrub
from tests.bpmn.engine.bpmn_snippets import definitions, lane_set

DATA = {"health_note": "Schizofreni, paranoid", "score": 4711, "plan": {"notes": ["Bipolar lidelse"]}, "n": 3}


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("ValueError: invalid literal for int() with base 10: 'Schizofreni, paranoid'.", "invalid literal for int()"),
        ("ValueError: invalid literal for int() with base 10: 'not in the data'.", "with base 10: …"),
        ("ValueError: could not convert string to float: 'Bipolar lidelse'.", "could not convert string to float"),
        ("the score 4711 is over 4000", "is over 4000"),
        ("Invalid isoformat string: 'snart'", "Invalid isoformat string: …"),
        ("time data '13/13' does not match format '%d/%m'", "does not match format"),
        ("compared \"a secret text\" with 'another one'", "compared"),
    ],
)
def test_values_leave_the_text_and_what_failed_stays(text, kept):
    scrubbed = scrub(text, literals(DATA))
    assert kept in scrubbed and MASK in scrubbed
    for value in ("Schizofreni", "Bipolar", "4711", "not in the data", "snart", "13/13", "secret", "another"):
        assert value not in scrubbed


def test_names_stay_they_say_what_failed():
    text = "name 'scroe' is not defined.  Did you mean one of '['health_note', 'score']'? KeyError: 'plan'"
    assert scrub(text, literals(DATA)) == text


def test_the_models_own_expression_stays_without_the_values_in_it():
    text = "Error evaluating expression 'score > 4711 and plan == \"x\"'.  Did you mean 'note'?"
    assert (
        scrub(text, literals(DATA))
        == "Error evaluating expression 'score > … and plan == \"x\"'.  Did you mean 'note'?"
    )


def test_short_values_and_small_numbers_do_not_garble_the_text():
    assert scrub("line 3 of element 'Task_1'", literals({"a": 3, "b": "ok"})) == "line 3 of element 'Task_1'"


def test_a_failing_script_raises_without_the_value_it_read():
    xml = definitions(f"""
        <bpmn:process id="P" isExecutable="true">
          {lane_set({"Helse": ["S", "Script_parse", "E"]})}
          <bpmn:startEvent id="S"/>
          <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="Script_parse"/>
          <bpmn:scriptTask id="Script_parse"><bpmn:script>score = int(health_note)</bpmn:script></bpmn:scriptTask>
          <bpmn:sequenceFlow id="F2" sourceRef="Script_parse" targetRef="E"/>
          <bpmn:endEvent id="E"/>
        </bpmn:process>""")
    workflow = engine.new_workflow(engine.restore_spec(compile_definition(xml).spec_json), DATA)
    with pytest.raises(TaskFailed) as raised:
        engine.advance(workflow)
    assert raised.value.element_id == "Script_parse" and raised.value.error_class == "ValueError"
    assert "Schizofreni" not in str(raised.value) and "invalid literal for int()" in str(raised.value)


def test_the_error_class_is_the_root_of_the_wrappers():
    try:
        try:
            int("x")
        except ValueError as exc:
            raise RuntimeError("wrapped") from exc
    except RuntimeError as outer:
        assert error_class(outer) == "ValueError"


def test_a_count_written_with_its_digits_grouped_is_masked_too():
    """The engine once wrote a count from the case as "range of 9,999,999 items": rows stored
    so are masked when shown; a longer number that merely ends in the same digits is not."""
    known = literals({"count": 9_999_999, "pair": [1, 42]})
    text = "range of 9,999,999 items, not 19,999,999, and [1,42]"
    assert scrub(text, known) == "range of … items, not 19,999,999, and [1,…]"
