"""What a script's (or a multi-instance's) variable carries: the names it was computed from,
over any number of steps (``bpmn.engine.element_needs.script_sources``). No database."""

from bpmn.engine.element_needs import names_set_by, script_sources, with_sources
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


def test_a_catchs_variable_carries_what_the_payloads_caught_into_it_read():
    """A message's ``messageVariable`` holds its payload: the fields the message declares for
    agencies' systems and what its throws read; an error's, signal's or escalation's
    ``variableName`` what the ``payloadExpression`` read (a throw of another item with the
    same name or code included). Before, such a variable carried nothing: a name no form has,
    restricted, which the coordinating agency sees, and so the diagnosis under it."""
    found = script_sources(
        parse_bpmn_xml(
            definitions("""
        <bpmn:message id="M1" name="assessed"><bpmn:extensionElements><spiffworkflow:properties>
          <spiffworkflow:property name="fields" value="diagnosis, treatment"/>
        </spiffworkflow:properties></bpmn:extensionElements></bpmn:message>
        <bpmn:error id="E1" errorCode="not_ready"><bpmn:extensionElements>
          <spiffworkflow:payloadExpression>debts</spiffworkflow:payloadExpression>
        </bpmn:extensionElements></bpmn:error>
        <bpmn:error id="E2" errorCode="not_ready"><bpmn:extensionElements>
          <spiffworkflow:variableName>err</spiffworkflow:variableName>
        </bpmn:extensionElements></bpmn:error>
        <bpmn:signal id="G1" name="moved"><bpmn:extensionElements>
          <spiffworkflow:payloadExpression>{"to": address}</spiffworkflow:payloadExpression>
          <spiffworkflow:variableName>moved_to</spiffworkflow:variableName>
        </bpmn:extensionElements></bpmn:signal>
        <bpmn:process id="P" isExecutable="true">
          <bpmn:intermediateThrowEvent id="T1"><bpmn:messageEventDefinition messageRef="M1">
            <bpmn:extensionElements><spiffworkflow:messagePayload>{"x": income}</spiffworkflow:messagePayload>
            </bpmn:extensionElements></bpmn:messageEventDefinition></bpmn:intermediateThrowEvent>
          <bpmn:receiveTask id="R1" messageRef="M1"><bpmn:extensionElements>
            <spiffworkflow:messageVariable>notice</spiffworkflow:messageVariable>
          </bpmn:extensionElements></bpmn:receiveTask>
        </bpmn:process>
    """)
        )
    )
    assert found["notice"] == {"diagnosis", "treatment", "income"}
    assert found["err"] == {"debts"}
    assert found["moved_to"] == {"address"}


def test_names_set_by_an_element_are_those_its_scripts_set_and_its_catch_receives():
    found = names_set_by(
        parse_bpmn_xml(
            definitions("""
        <bpmn:message id="M1" name="assessed"/>
        <bpmn:process id="P" isExecutable="true">
          <bpmn:scriptTask id="S1"><bpmn:script>route = "psych"
summary["x"] = 1</bpmn:script></bpmn:scriptTask>
          <bpmn:userTask id="T1"><bpmn:extensionElements>
            <spiffworkflow:postScript>done = True</spiffworkflow:postScript>
          </bpmn:extensionElements></bpmn:userTask>
          <bpmn:receiveTask id="R1" messageRef="M1"><bpmn:extensionElements>
            <spiffworkflow:messageVariable>notice</spiffworkflow:messageVariable>
          </bpmn:extensionElements></bpmn:receiveTask>
        </bpmn:process>
    """)
        )
    )
    assert found == {"S1": {"route", "summary"}, "T1": {"done"}, "R1": {"notice"}}


def test_a_value_changed_through_another_name_carries_what_was_written_under_every_name_holding_it():
    """``alias = summary`` then ``alias["note"] = diagnosis`` writes into ``summary``'s value,
    which no script sets by its own name: ``summary`` (a literal of an earlier script) carried
    nothing, and the diagnosis went wherever ``summary`` may go. So did a base that is no name
    (``[summary][0]["note"]``, ``box.get("s")["note"]``) and a list extended in place."""
    copies = {
        "alias": 'alias = summary\nalias["note"] = diagnosis',
        "literal": '[summary][0]["note"] = diagnosis',
        "method": 'box = {"s": summary}\nbox.get("s")["note"] = diagnosis',
        "loop": 'for each in [summary]:\n    each["note"] = diagnosis',
        "extended": "kept = summary\nkept += [diagnosis]",
        "two scripts": 'alias = summary</bpmn:script></bpmn:scriptTask><bpmn:scriptTask id="S3">'
        '<bpmn:script>alias["note"] = diagnosis',
    }
    for how, copy in copies.items():
        found = sources_of(f"""
            <bpmn:scriptTask id="S1"><bpmn:script>summary = {{}}</bpmn:script></bpmn:scriptTask>
            <bpmn:scriptTask id="S2"><bpmn:script>{copy}</bpmn:script></bpmn:scriptTask>
        """)
        assert "diagnosis" in with_sources({"summary"}, found), how


def test_a_script_that_changes_a_value_through_another_name_sets_every_name_holding_it():
    """What running an element sets (``names_set_by``: a name set on a branch carries the
    branch) counts the names a value changed in place may be held under."""
    root = parse_bpmn_xml(
        definitions("""<bpmn:process id="P" isExecutable="true">
            <bpmn:scriptTask id="S1"><bpmn:script>alias = summary</bpmn:script></bpmn:scriptTask>
            <bpmn:scriptTask id="S2"><bpmn:script>alias["route"] = "psych"</bpmn:script></bpmn:scriptTask>
            <bpmn:scriptTask id="S3"><bpmn:script>days = 3
days //= 7</bpmn:script></bpmn:scriptTask>
        </bpmn:process>""")
    )
    set_by = names_set_by(root)
    assert {"alias", "summary"} <= set_by["S2"]
    assert set_by["S3"] == {"days"}  # a new value, nothing changed in place
