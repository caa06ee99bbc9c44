"""What a script's (or a multi-instance's) variable carries: the names it was computed from,
over any number of steps (``bpmn.engine.element_needs.script_sources``). No database."""

from bpmn.engine.element_needs import script_sources, with_sources
from bpmn.engine.xml import parse_bpmn_xml

from .bpmn_snippets import SPIFF_NS, definitions


def sources_of(body: str) -> dict[str, frozenset[str]]:
    return script_sources(
        parse_bpmn_xml(definitions(f'<bpmn:process id="P" isExecutable="true">{body}</bpmn:process>'))
    )


def test_a_variable_carries_what_its_script_read_through_every_script_after():
    found = sources_of("""
        <bpmn:scriptTask id="S1"><bpmn:script>flag = needs_treatment</bpmn:script></bpmn:scriptTask>
        <bpmn:scriptTask id="S2"><bpmn:script>label = "ja" if flag else "nei"</bpmn:script></bpmn:scriptTask>
    """)
    assert with_sources({"label"}, found) == {"label", "flag", "needs_treatment"}
    # what a script only reads carries nothing back from it
    assert with_sources({"needs_treatment"}, found) == {"needs_treatment"}


def test_a_value_changed_in_place_or_set_by_a_pre_or_post_script_carries_what_was_read():
    found = sources_of(f"""
        <bpmn:scriptTask id="S1"><bpmn:script>summary["x"] = diagnosis
found.append(income)</bpmn:script></bpmn:scriptTask>
        <bpmn:userTask id="T1"><bpmn:extensionElements>
          <spiffworkflow:preScript xmlns:spiffworkflow="{SPIFF_NS}">note = debts</spiffworkflow:preScript>
        </bpmn:extensionElements></bpmn:userTask>
    """)
    assert {"diagnosis", "income"} <= found["summary"] and {"diagnosis", "income"} <= found["found"]
    assert found["note"] == {"debts"}


def test_a_multi_instance_item_carries_its_collection_and_the_output_its_items():
    found = sources_of("""
        <bpmn:userTask id="T1"><bpmn:multiInstanceLoopCharacteristics>
          <bpmn:loopDataInputRef>diagnoses</bpmn:loopDataInputRef>
          <bpmn:loopDataOutputRef>answers</bpmn:loopDataOutputRef>
          <bpmn:inputDataItem id="diagnosis" name="diagnosis"/>
          <bpmn:outputDataItem id="answer" name="answer"/>
        </bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>
    """)
    assert found["diagnosis"] == {"diagnoses"} and found["answers"] == {"answer"}
