"""What an event caught from a split's branch gives away, the holes h-paths2 left
(``bpmn.engine.gateway_paths._caught_on_branches``, ``_caught_on_timer_branches``): each
test failed before.

1. A data timer's firing makes a task whose agency throws "urgent" when done; a boundary
   event on NAV's waiting task catches it. The boundary was reached by the graph's edge from
   its task, which every case reaches, so it and NAV's urgent task lay on no branch: the
   housing coordinator learnt that the masked date had come.
2. After a gateway on health data, an event-based gateway waits for "urgent" (thrown on the
   treatment branch only) or a day: the catch lay on the branch, but the day's timer beside
   it, and the reminder task after it, did not, and told the other branch.
3. An interrupting boundary set off from a parallel path (the treatment branch) cancels NAV's
   waiting task, or comes after it ended (a race): what follows the task as usual was on no
   branch, and told which.
"""

import time

from bpmn.engine.gateway_paths import path_splits
from tests.bpmn.engine.bpmn_snippets import definitions
from tests.bpmn.engine.test_gateway_paths import HEAD

SIGNAL = '<bpmn:signal id="Signal_urgent" name="urgent"/>'
THROW = '<bpmn:signalEventDefinition signalRef="Signal_urgent"/>'
TREATED = "<bpmn:conditionExpression>needs_treatment == True</bpmn:conditionExpression>"


def _flows(*pairs: str) -> str:
    return "".join(
        f'<bpmn:sequenceFlow id="F_{source}_{target}" sourceRef="{source}" targetRef="{target}"/>'
        for source, target in (pair.split(">") for pair in pairs)
    )


def _treatment_beside(treatment_end: str, parallel: str) -> str:
    """After the assessment a fork: on one path the split on health data, whose treatment
    branch ends at an end event holding ``treatment_end``; on the other ``parallel`` (its
    elements and flows, from ``Fork``), where NAV works."""
    return definitions(f"""
        {SIGNAL}
        <bpmn:process id="P" isExecutable="true">
          <bpmn:startEvent id="S"/>
          <bpmn:userTask id="T_assess"/>
          <bpmn:parallelGateway id="Fork"/>
          <bpmn:exclusiveGateway id="G" default="F_no"/>
          <bpmn:sequenceFlow id="F_yes" sourceRef="G" targetRef="T_treat">{TREATED}</bpmn:sequenceFlow>
          <bpmn:sequenceFlow id="F_no" sourceRef="G" targetRef="E_no"/>
          <bpmn:userTask id="T_treat"/>
          <bpmn:endEvent id="E_treat">{treatment_end}</bpmn:endEvent>
          <bpmn:endEvent id="E_no"/>
          {_flows("S>T_assess", "T_assess>Fork", "Fork>G", "T_treat>E_treat")}
          {parallel}
        </bpmn:process>
    """)


def test_a_boundary_set_off_beyond_the_first_task_a_data_timer_makes_lies_on_its_branch():
    xml = definitions(f"""
        {SIGNAL}
        <bpmn:process id="P" isExecutable="true">
          <bpmn:startEvent id="S"/>
          <bpmn:parallelGateway id="Fork"/>
          <bpmn:userTask id="T_wait"/>
          <bpmn:boundaryEvent id="B_urgent" attachedToRef="T_wait" cancelActivity="false">{THROW}</bpmn:boundaryEvent>
          <bpmn:userTask id="T_urgent"/>
          <bpmn:endEvent id="E1"/><bpmn:endEvent id="E2"/><bpmn:endEvent id="E3"/>
          <bpmn:intermediateCatchEvent id="Timer_date">
            <bpmn:timerEventDefinition>
              <bpmn:timeDate>days_before(eviction_date, 7)</bpmn:timeDate>
            </bpmn:timerEventDefinition>
          </bpmn:intermediateCatchEvent>
          <bpmn:userTask id="T_escalate"/>
          <bpmn:intermediateThrowEvent id="Throw_urgent">{THROW}</bpmn:intermediateThrowEvent>
          {
        _flows(
            "S>Fork",
            "Fork>T_wait",
            "T_wait>E1",
            "B_urgent>T_urgent",
            "T_urgent>E2",
            "Fork>Timer_date",
            "Timer_date>T_escalate",
            "T_escalate>Throw_urgent",
            "Throw_urgent>E3",
        )
    }
        </bpmn:process>
    """)
    path = path_splits(xml)["Timer_date"]
    assert {"T_escalate", "Throw_urgent", "B_urgent", "T_urgent"} <= path.branch_elements
    assert "T_wait" not in path.branch_elements  # not interrupting: NAV's task is every case's


def _event_gateway_model() -> str:
    return definitions(f"""
        {SIGNAL}
        <bpmn:process id="P" isExecutable="true">
          <bpmn:startEvent id="S"/>
          <bpmn:userTask id="T_assess"/>
          <bpmn:exclusiveGateway id="G" default="F_no"/>
          <bpmn:sequenceFlow id="F_yes" sourceRef="G" targetRef="T_treat">{TREATED}</bpmn:sequenceFlow>
          <bpmn:sequenceFlow id="F_no" sourceRef="G" targetRef="J"/>
          <bpmn:userTask id="T_treat"/>
          <bpmn:intermediateThrowEvent id="Throw_urgent">{THROW}</bpmn:intermediateThrowEvent>
          <bpmn:exclusiveGateway id="J"/>
          <bpmn:userTask id="T_first"/>
          <bpmn:eventBasedGateway id="Wait"/>
          <bpmn:intermediateCatchEvent id="Catch_urgent">{THROW}</bpmn:intermediateCatchEvent>
          <bpmn:intermediateCatchEvent id="Timer_day">
            <bpmn:timerEventDefinition><bpmn:timeDuration>"P1D"</bpmn:timeDuration></bpmn:timerEventDefinition>
          </bpmn:intermediateCatchEvent>
          <bpmn:userTask id="T_urgent"/>
          <bpmn:userTask id="T_reminder"/>
          <bpmn:exclusiveGateway id="J2"/>
          <bpmn:userTask id="T_final"/>
          <bpmn:endEvent id="E"/>
          {
        _flows(
            "S>T_assess",
            "T_assess>G",
            "T_treat>Throw_urgent",
            "Throw_urgent>J",
            "J>T_first",
            "T_first>Wait",
            "Wait>Catch_urgent",
            "Wait>Timer_day",
            "Catch_urgent>T_urgent",
            "Timer_day>T_reminder",
            "T_urgent>J2",
            "T_reminder>J2",
            "J2>T_final",
            "T_final>E",
        )
    }
        </bpmn:process>
    """)


def test_an_event_based_gateway_s_timer_beside_a_catch_the_branch_sets_off_lies_on_the_branch():
    path = path_splits(_event_gateway_model())["G"]
    assert {"Catch_urgent", "T_urgent", "Timer_day", "T_reminder"} <= path.branch_elements
    # What the case reaches either way shows: before the wait, and after the two meet.
    assert not {"T_first", "Wait", "J2", "T_final"} & path.branch_elements


def test_what_follows_a_task_an_interrupting_boundary_from_a_parallel_branch_may_cancel_lies_on_it():
    xml = _treatment_beside(
        THROW,
        f"""
          <bpmn:userTask id="T_wait"/>
          <bpmn:boundaryEvent id="B_urgent" attachedToRef="T_wait">{THROW}</bpmn:boundaryEvent>
          <bpmn:userTask id="T_urgent"/>
          <bpmn:userTask id="T_next"/>
          <bpmn:exclusiveGateway id="J"/>
          <bpmn:userTask id="T_final"/>
          <bpmn:endEvent id="E"/>
          {_flows("Fork>T_wait", "B_urgent>T_urgent", "T_wait>T_next", "T_next>J", "T_urgent>J")}
          {_flows("J>T_final", "T_final>E")}
        """,
    )
    path = path_splits(xml)["G"]
    assert {"T_treat", "B_urgent", "T_urgent", "T_wait", "T_next"} <= path.branch_elements
    # (What follows the join counts as the treatment branch's too: the other branch, walked
    # from the gateway alone, reaches nothing on the parallel path. The safe side.)
    assert not {"T_assess", "Fork"} & path.branch_elements


def test_an_event_sub_process_a_branch_sets_off_and_what_it_interrupts_lie_on_the_branch():
    """4 (found attacking it): an interrupting event sub-process whose start only the
    treatment branch's signal sets off cancels NAV's work on the parallel path. Its start was
    no catch the analysis looked at: NAV's waiting task, cancelled on one branch and open (then
    its next task) on the other, lay on no branch."""
    xml = _treatment_beside(
        THROW,
        f"""
          <bpmn:userTask id="T_wait"/>
          <bpmn:userTask id="T_next"/>
          <bpmn:endEvent id="E"/>
          <bpmn:subProcess id="ESP" triggeredByEvent="true">
            <bpmn:startEvent id="ES_start">{THROW}</bpmn:startEvent>
            <bpmn:userTask id="T_stopped"/>
            <bpmn:endEvent id="ES_end"/>
            {_flows("ES_start>T_stopped", "T_stopped>ES_end")}
          </bpmn:subProcess>
          {_flows("Fork>T_wait", "T_wait>T_next", "T_next>E")}
        """,
    )
    path = path_splits(xml)["G"]
    assert {"ES_start", "T_stopped", "T_wait", "T_next"} <= path.branch_elements
    assert not {"S", "T_assess", "Fork", "P"} & path.branch_elements
    # Not interrupting: only what it does itself.
    quiet = path_splits(
        xml.replace('<bpmn:startEvent id="ES_start">', '<bpmn:startEvent id="ES_start" isInterrupting="false">')
    )
    assert "T_stopped" in quiet["G"].branch_elements
    assert not {"T_wait", "T_next"} & quiet["G"].branch_elements


def _chain_of_caught(count: int, *, timers: bool) -> str:
    """``count`` splits one after another (gateways on ``x{i}``, or data timers on a task), each
    whose branch throws a signal that a boundary event on the next task catches."""
    parts, previous = [HEAD], "S"
    for i in range(count):
        if timers:
            split = (
                f'<bpmn:sequenceFlow id="in{i}" sourceRef="{previous}" targetRef="T{i}"/>'
                f'<bpmn:boundaryEvent id="B{i}" attachedToRef="T{i}" cancelActivity="false"><bpmn:timerEventDefinition>'
                f"<bpmn:timeDate>days_before(d{i}, 7)</bpmn:timeDate></bpmn:timerEventDefinition></bpmn:boundaryEvent>"
                f'<bpmn:sequenceFlow id="fb{i}" sourceRef="B{i}" targetRef="A{i}"/>'
                f'<bpmn:sequenceFlow id="xj{i}" sourceRef="X{i}" targetRef="J{i}"/>'
            )
        else:
            split = (
                f'<bpmn:sequenceFlow id="in{i}" sourceRef="{previous}" targetRef="G{i}"/>'
                f'<bpmn:exclusiveGateway id="G{i}" default="fb{i}"/>'
                f'<bpmn:sequenceFlow id="fa{i}" sourceRef="G{i}" targetRef="A{i}">'
                f"<bpmn:conditionExpression>x{i} == 1</bpmn:conditionExpression></bpmn:sequenceFlow>"
                f'<bpmn:sequenceFlow id="fb{i}" sourceRef="G{i}" targetRef="T{i}"/>'
                f'<bpmn:sequenceFlow id="xt{i}" sourceRef="X{i}" targetRef="T{i}"/>'
            )
        parts.append(
            split + f'<bpmn:userTask id="A{i}"/><bpmn:sequenceFlow id="ax{i}" sourceRef="A{i}" targetRef="X{i}"/>'
            f'<bpmn:intermediateThrowEvent id="X{i}"><bpmn:signalEventDefinition signalRef="Sig{i}"/>'
            f'</bpmn:intermediateThrowEvent><bpmn:userTask id="T{i}"/>'
            f'<bpmn:boundaryEvent id="C{i}" attachedToRef="T{i}" cancelActivity="false">'
            f'<bpmn:signalEventDefinition signalRef="Sig{i}"/></bpmn:boundaryEvent>'
            f'<bpmn:sequenceFlow id="cu{i}" sourceRef="C{i}" targetRef="U{i}"/><bpmn:userTask id="U{i}"/>'
            f'<bpmn:sequenceFlow id="ju{i}" sourceRef="U{i}" targetRef="J{i}"/>'
            f'<bpmn:sequenceFlow id="jt{i}" sourceRef="T{i}" targetRef="J{i}"/><bpmn:exclusiveGateway id="J{i}"/>'
        )
        previous = f"J{i}"
    parts.append(f'<bpmn:sequenceFlow id="out" sourceRef="{previous}" targetRef="E"/><bpmn:endEvent id="E"/>')
    signals = "".join(f'<bpmn:signal id="Sig{i}" name="s{i}"/>' for i in range(count))
    return "".join(parts) + "</bpmn:process>" + signals + "</bpmn:definitions>"


def test_many_splits_whose_branches_set_off_a_boundary_cost_no_walk_per_split():
    """A walk per branch of each gateway (h-paths2) and per timer whose branch sets off a
    catch: 600 of them, 5.4 s (gateways) and 4.3 s (timers) of CPU. One graph for all: below
    one second each (0.7 s and 0.5 s on the shared test machine)."""
    for timers in (False, True):
        xml = _chain_of_caught(600, timers=timers)
        started = time.process_time()
        paths = path_splits(xml)
        assert time.process_time() - started < 2.5, timers
        split = "B300" if timers else "G300"
        assert {"C300", "U300", "X300"} <= paths[split].branch_elements, timers
        assert not {"J300", "T301", "C301"} & paths[split].branch_elements, timers


def test_a_terminate_end_on_a_branch_hides_what_it_ends_on_the_parallel_path():
    """5 (found attacking it): the treatment branch ends at a terminate end event, which ends
    NAV's waiting task on the parallel path at once; on the other branch NAV's task stays open,
    then its next task comes. Neither lay on the branch."""
    xml = _treatment_beside(
        "<bpmn:terminateEventDefinition/>",
        f"""
          <bpmn:userTask id="T_wait"/>
          <bpmn:userTask id="T_next"/>
          <bpmn:endEvent id="E"/>
          {_flows("Fork>T_wait", "T_wait>T_next", "T_next>E")}
        """,
    )
    path = path_splits(xml)["G"]
    assert {"T_treat", "T_wait", "T_next"} <= path.branch_elements
    assert not {"S", "T_assess", "Fork", "P"} & path.branch_elements


def _answer_or_the_masked_date(answered: str, *answer_flows: str) -> str:
    """The person's answer or, a week before the masked eviction date, the timer: the housing
    office's late task after the timer, `answered` (elements) after the answer, both meeting
    at J before the final task."""
    return definitions(f"""
        <bpmn:message id="M" name="answer"/>
        <bpmn:process id="P" isExecutable="true">
          <bpmn:startEvent id="S"/>
          <bpmn:userTask id="T_first"/>
          <bpmn:eventBasedGateway id="Wait"/>
          <bpmn:intermediateCatchEvent id="Timer_date">
            <bpmn:timerEventDefinition>
              <bpmn:timeDate>days_before(eviction_date, 7)</bpmn:timeDate>
            </bpmn:timerEventDefinition>
          </bpmn:intermediateCatchEvent>
          <bpmn:intermediateCatchEvent id="Catch_answer"><bpmn:messageEventDefinition messageRef="M"/>
          </bpmn:intermediateCatchEvent>
          <bpmn:userTask id="T_late"/>
          {answered}
          <bpmn:userTask id="T_answered"/>
          <bpmn:exclusiveGateway id="J"/>
          <bpmn:userTask id="T_final"/>
          <bpmn:endEvent id="E"/>
          {_flows("S>T_first", "T_first>Wait", "Wait>Timer_date", "Wait>Catch_answer", "Timer_date>T_late")}
          {_flows(*answer_flows, "T_late>J", "T_answered>J", "J>T_final", "T_final>E")}
        </bpmn:process>
    """)


def test_the_events_an_event_based_gateway_waits_for_beside_a_data_timer_lie_on_its_branch():
    """6 (found attacking it): a week before the masked eviction date the timer fires and the
    wait for the person's answer is withdrawn (what the case waits for loses its name); an
    answer before then makes a task that tells the date had not come. Neither lay on the
    timer's branch; what follows the two meeting still shows."""
    xml = _answer_or_the_masked_date("", "Catch_answer>T_answered")
    path = path_splits(xml)["Timer_date"]
    assert {"Timer_date", "T_late", "Catch_answer", "T_answered"} <= path.branch_elements
    assert not {"T_first", "Wait", "J", "T_final"} & path.branch_elements


def test_what_follows_only_an_event_beside_a_data_timer_lies_on_its_branch_loops_included():
    """7 (h-paths4): after the answer the housing office checks it until it is complete (a
    loop back through a gateway). Only what every node before it among them counted, so the
    check, the gateway of the loop and the task after it (each led to from inside the loop as
    well) lay on no branch and told that the answer came before the masked date."""
    xml = _answer_or_the_masked_date(
        """<bpmn:exclusiveGateway id="Again"/>
          <bpmn:userTask id="T_check"/>
          <bpmn:exclusiveGateway id="Done" default="F_Done_T_answered"/>""",
        "Catch_answer>Again",
        "Again>T_check",
        "T_check>Done",
        "Done>Again",
        "Done>T_answered",
    )
    path = path_splits(xml)["Timer_date"]
    assert {"Timer_date", "T_late", "Catch_answer", "Again", "T_check", "Done", "T_answered"} <= path.branch_elements
    assert not {"T_first", "Wait", "J", "T_final"} & path.branch_elements
