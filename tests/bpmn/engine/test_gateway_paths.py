"""What a gateway's path gives away (``bpmn.engine.gateway_paths``)."""

import random
import time
from pathlib import Path

from lxml import etree

from bpmn.engine.gateway_paths import (
    GATEWAYS,
    MOMENT_STOPS,
    GatewayPath,
    _branch_paths,
    _closed,
    _condition_names,
    _elements,
    _gateway_splits,
    _graph,
    _message_edges,
    _timer_reads,
    gateway_paths,
    timer_paths,
)
from bpmn.engine.lint.model import _local, _q
from bpmn.engine.xml import parse_bpmn_xml

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
    from bpmn.engine.gateway_paths import path_splits
    from tests.timing import cpu_time

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
    # Timed as tests.timing times (earlier tests' objects set aside from the collector): in
    # CI's long-lived test process its full collections of them took 2.3 s of this once.
    with cpu_time() as used:
        (path,) = path_splits(xml).values()
    # 0.19 s of CPU on a quiet machine, 0.69 s in CI beside another lane; 4.6 s before.
    assert used.seconds < 1.5
    assert "T0" in path.branch_elements and "C2999" in path.branch_elements
    assert all(element.isprintable() for element in path.branch_elements)


HEAD = (
    '<?xml version="1.0"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'id="d" targetNamespace="x"><bpmn:process id="P" isExecutable="true"><bpmn:startEvent id="S"/>'
)


def _chain_of_gateways(count: int) -> str:
    """``count`` exclusive gateways one after another, each reading a field and its two
    branches meeting before the next."""
    parts, previous = [HEAD], "S"
    for i in range(count):
        parts.append(
            f'<bpmn:sequenceFlow id="in{i}" sourceRef="{previous}" targetRef="G{i}"/>'
            f'<bpmn:exclusiveGateway id="G{i}" default="fb{i}"/>'
            f'<bpmn:sequenceFlow id="fa{i}" sourceRef="G{i}" targetRef="A{i}">'
            f"<bpmn:conditionExpression>x{i} == 1</bpmn:conditionExpression></bpmn:sequenceFlow>"
            f'<bpmn:sequenceFlow id="fb{i}" sourceRef="G{i}" targetRef="B{i}"/>'
            f'<bpmn:userTask id="A{i}"/><bpmn:userTask id="B{i}"/>'
            f'<bpmn:sequenceFlow id="ja{i}" sourceRef="A{i}" targetRef="J{i}"/>'
            f'<bpmn:sequenceFlow id="jb{i}" sourceRef="B{i}" targetRef="J{i}"/><bpmn:exclusiveGateway id="J{i}"/>'
        )
        previous = f"J{i}"
    parts.append(f'<bpmn:sequenceFlow id="out" sourceRef="{previous}" targetRef="E"/><bpmn:endEvent id="E"/>')
    return "".join(parts) + "</bpmn:process></bpmn:definitions>"


def _chain_of_timers(count: int) -> str:
    """``count`` tasks one after another, each with a timer on it computed from a field, whose
    escalation task meets the task's flow before the next."""
    parts, previous = [HEAD], "S"
    for i in range(count):
        parts.append(
            f'<bpmn:sequenceFlow id="in{i}" sourceRef="{previous}" targetRef="T{i}"/><bpmn:userTask id="T{i}"/>'
            f'<bpmn:boundaryEvent id="B{i}" attachedToRef="T{i}"><bpmn:timerEventDefinition>'
            f"<bpmn:timeDate>days_before(d{i}, 7)</bpmn:timeDate></bpmn:timerEventDefinition></bpmn:boundaryEvent>"
            f'<bpmn:sequenceFlow id="fb{i}" sourceRef="B{i}" targetRef="X{i}"/><bpmn:userTask id="X{i}"/>'
            f'<bpmn:sequenceFlow id="jx{i}" sourceRef="X{i}" targetRef="J{i}"/>'
            f'<bpmn:sequenceFlow id="jt{i}" sourceRef="T{i}" targetRef="J{i}"/><bpmn:exclusiveGateway id="J{i}"/>'
        )
        previous = f"J{i}"
    parts.append(f'<bpmn:sequenceFlow id="out" sourceRef="{previous}" targetRef="E"/><bpmn:endEvent id="E"/>')
    return "".join(parts) + "</bpmn:process></bpmn:definitions>"


def test_a_model_of_many_gateways_costs_no_walk_per_gateway():
    """Each gateway's branches were walked to the model's end, and each flow was looked at
    for each gateway: 1,500 gateways (800 KiB) took 18 s of CPU at deploy and at each web or
    worker process's first use of the version (a model may be 5 MB). 0.12 s now."""
    xml = _chain_of_gateways(1500)
    started = time.process_time()
    paths = gateway_paths(xml)
    assert time.process_time() - started < 2
    assert len(paths) == 1500
    assert paths["G700"].branch_elements == {"A700", "B700"}


def test_a_model_of_many_timers_costs_no_walk_per_timer():
    """What each timer reaches, and what the case reaches otherwise, were a walk each to the
    model's end: 3,000 timers (1.5 MB) took 19 s of CPU. 0.4 s now."""
    xml = _chain_of_timers(3000)
    started = time.process_time()
    paths = timer_paths(xml)
    assert time.process_time() - started < 2
    assert len(paths) == 3000
    assert paths["B1700"].branch_elements == {"B1700", "T1700", "X1700"}
    assert paths["B1700"].reads == {"d1700"}


def test_the_paths_are_those_the_walks_found_on_random_models():
    """On a few thousand small random models (loops, sub-processes nested, messages by name
    and by message flow, boundary events, flows without a target), the same answers as the
    walks before (``_reference_*`` below, as they were), before what a boundary event caught
    from a branch (a gateway's or a timer's) adds."""
    fast = 0
    for seed in range(2500):
        rng = random.Random(seed)
        xml = random_model(rng)
        shared = set(rng.sample(NAMES, rng.randint(0, 2)))
        root = parse_bpmn_xml(xml)
        by_reach = _branch_paths(_gateway_splits(root, None), *_graph(root))
        assert by_reach == _reference_gateway_paths(xml), seed
        # What a boundary event caught from a branch adds (``_caught_on_branches``) only adds.
        for gateway, path in gateway_paths(xml).items():
            assert path.reads == by_reach[gateway].reads, seed
            assert path.branch_elements >= by_reach[gateway].branch_elements, seed
        # So for a timer's (``_caught_on_timer_branches``, 2026-12-06).
        by_walks = _reference_timer_paths(xml, shared)
        timers = timer_paths(xml, shared)
        assert timers.keys() == by_walks.keys(), seed
        for timer, path in timers.items():
            assert path.reads == by_walks[timer].reads, seed
            assert path.branch_elements >= by_walks[timer].branch_elements, seed
        fast += _closed(*_graph(parse_bpmn_xml(xml)))
    assert fast > 1500  # most take the new way (``_closed``), not the walks kept


NAMES = ("v1", "v2", "v3")


def random_model(rng: random.Random) -> str:
    """A small model of random shape: tasks, gateways reading data or not, timers reading
    data or not, messages thrown and caught (by name and by message flow), boundary events,
    sub-processes (nested), loops, flows from anywhere to anywhere."""
    count = rng.randint(2, 12)
    kinds = [
        "userTask",
        "scriptTask",
        "exclusiveGateway",
        "inclusiveGateway",
        "parallelGateway",
        "intermediateCatchEvent",
        "intermediateThrowEvent",
        "endEvent",
        "startEvent",
        "subProcess",
        "sendTask",
        "receiveTask",
        "boundaryEvent",
    ]
    nodes = [(f"N{i}", rng.choice(kinds)) for i in range(count)]
    if rng.random() < 0.8:
        nodes[0] = ("N0", "startEvent")
    subs = [node for node, kind in nodes if kind == "subProcess"]
    # Where each node lies: the process, or a sub-process (not itself nor one inside it).
    parent = {}
    for node, _kind in nodes:
        choices = [None] + [sub for sub in subs if sub != node]
        parent[node] = rng.choice(choices) if rng.random() < 0.4 else None
    for node in list(parent):  # break containment loops
        seen, at = {node}, parent[node]
        while at is not None:
            if at in seen:
                parent[node] = None
                break
            seen.add(at)
            at = parent[at]
    tasks = [
        node for node, kind in nodes if kind in ("userTask", "scriptTask", "subProcess", "sendTask", "receiveTask")
    ]

    def timer():
        text = rng.choice(
            [f"days_before({rng.choice(NAMES)}, 7)", "P14D", f"{rng.choice(NAMES)} + {rng.choice(NAMES)}"]
        )
        return f"<bpmn:timerEventDefinition><bpmn:timeDate>{text}</bpmn:timeDate></bpmn:timerEventDefinition>"

    def message(attribute=False):
        ref = rng.choice(["M1", "M2", "M3"])
        return f' messageRef="{ref}"' if attribute else f'<bpmn:messageEventDefinition messageRef="{ref}"/>'

    xml = {node: "" for node, _kind in nodes}
    for node, kind in nodes:
        attributes, inner = "", ""
        if kind in ("startEvent", "intermediateCatchEvent", "boundaryEvent"):
            inner = rng.choice([timer, message, lambda: ""])()
        if kind in ("intermediateThrowEvent", "endEvent") and rng.random() < 0.7:
            inner = message()
        if kind in ("sendTask", "receiveTask") and rng.random() < 0.8:
            attributes = message(True)
        if kind == "boundaryEvent":
            attributes += f' attachedToRef="{rng.choice(tasks or ["N0"])}"'
            if rng.random() < 0.4:
                attributes += ' cancelActivity="false"'
        xml[node] = (kind, attributes, inner)
    flows = []
    for index in range(rng.randint(1, 2 * count)):
        source, target = rng.choice(nodes)[0], rng.choice(nodes)[0]
        if rng.random() < 0.03:
            target = ""
        if rng.random() < 0.03:
            source = ""  # with an element without an id (below): a gateway without one
        condition = ""
        if rng.random() < 0.5:
            condition = (
                f"<bpmn:conditionExpression>{rng.choice(NAMES)} == {rng.randint(0, 2)}</bpmn:conditionExpression>"
            )
        where = parent.get(source) if rng.random() < 0.7 else None
        flows.append(
            (
                where,
                f'<bpmn:sequenceFlow id="F{index}" sourceRef="{source}" targetRef="{target}">'
                f"{condition}</bpmn:sequenceFlow>",
            )
        )
    message_flows = "".join(
        f'<bpmn:messageFlow id="MF{index}" sourceRef="{rng.choice(nodes)[0]}" targetRef="{rng.choice(nodes)[0]}"/>'
        for index in range(rng.randint(0, 2))
    )

    def render(container):
        parts = []
        for node, _kind in nodes:
            if parent[node] != container:
                continue
            kind, attributes, inner = xml[node]
            if kind == "subProcess":
                inner += render(node)
            named = f' id="{node}"' if rng.random() > 0.03 else ""
            parts.append(f"<bpmn:{kind}{named}{attributes}>{inner}</bpmn:{kind}>")
        parts.extend(flow for where, flow in flows if where == container)
        return "".join(parts)

    return (
        '<?xml version="1.0"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'id="d" targetNamespace="x"><bpmn:message id="M1" name="one"/><bpmn:message id="M2" name="one"/>'
        '<bpmn:message id="M3"/>'
        f'<bpmn:collaboration id="C">{message_flows}</bpmn:collaboration>'
        f'<bpmn:process id="P" isExecutable="true">{render(None)}</bpmn:process></bpmn:definitions>'
    )


# ---------------------------------------------------------------------------------------
# The reference: the walks before (one per branch, per gateway, per timer and per entry),
# kept as they were to check that the faster code gives the same answers.


def _reference_reach(start, edges, inside, avoid="", entered=None):
    """As the walk was, but that it walks on inside a sub-process from where it is entered
    (2026-12-06: what a message thrown inside one sets off outside is reached too)."""
    seen, walked, todo = set(), set(), [start]
    while todo:
        node = todo.pop()
        if node in walked or not node or (avoid and node == avoid):
            continue
        walked.add(node)
        seen.add(node)
        if node in inside:
            seen |= inside[node]
            todo.extend((entered or {}).get(node, ()))
        todo.extend(edges.get(node, ()))
    return seen


def _reference_entered(successors, inside):
    targets = {target for nexts in successors.values() for target in nexts}
    found = {}
    for container, elements in inside.items():
        nested = set().union(*(inside[element] for element in elements if element in inside))
        direct = elements - nested
        found[container] = {element for element in direct if element not in targets} or direct
    return found


def _reference_gateway_paths(bpmn_xml):
    root = parse_bpmn_xml(bpmn_xml)
    successors, inside = _graph(root)
    predecessors = {}
    for node, nexts in successors.items():
        for target in nexts:
            predecessors.setdefault(target, set()).add(node)
    paths = {}
    for gateway in root.iter(*(_q(kind) for kind in GATEWAYS)):
        gateway_id = gateway.get("id") or ""
        outgoing = [flow for flow in root.iter(_q("sequenceFlow")) if flow.get("sourceRef") == gateway_id]
        reads = frozenset(name for flow in outgoing for name in _condition_names(flow))
        if len(outgoing) < 2 or not reads:
            continue
        upstream = _reference_reach(gateway_id, predecessors, {})
        entered = _reference_entered(successors, inside)
        reached = [
            _reference_reach(flow.get("targetRef") or "", successors, inside, entered=entered) for flow in outgoing
        ]
        common = set.intersection(*reached)
        branch = set().union(*reached) - common - upstream - {gateway_id}
        paths[gateway_id] = GatewayPath(reads, _elements(branch))
    return paths


def _reference_timer_paths(bpmn_xml, shared=frozenset()):
    root = parse_bpmn_xml(bpmn_xml)
    reads = {timer: names - set(shared) for timer, names in _timer_reads(root).items()}
    if not any(reads.values()):
        return {}
    flows = {}
    for flow in root.iter(_q("sequenceFlow")):
        flows.setdefault(flow.get("sourceRef") or "", set()).add(flow.get("targetRef") or "")
    boundaries = {}
    for boundary in root.iter(_q("boundaryEvent")):
        boundaries.setdefault(boundary.get("attachedToRef") or "", set()).add(boundary.get("id") or "")
    messages = _message_edges(root)
    successors, inside = _graph(root)
    elements = {el.get("id"): el for el in root.iter(etree.Element) if el.get("id")}
    caught = {catch for catches in messages.values() for catch in catches}
    # A process's own starts (2026-12-06: not one inside a sub-process or a called process).
    contained = set().union(*inside.values())
    called = {call.get("calledElement") for call in root.iter(_q("callActivity"))}
    entries = [
        node
        for node, element in elements.items()
        if _local(element) == "startEvent"
        and node not in caught
        and node not in contained
        and element.getparent().get("id") not in called
    ]

    def is_timer(node):
        element = elements.get(node)
        return element is not None and element.find(_q("timerEventDefinition")) is not None

    paths = {}
    for timer, names in reads.items():
        if not names:
            continue
        found = {timer}
        timer_element = elements.get(timer)
        if (
            timer_element is not None
            and _local(timer_element) == "boundaryEvent"
            and timer_element.get("cancelActivity", "true") != "false"
        ):
            found.add(timer_element.get("attachedToRef") or "")
            found |= inside.get(timer_element.get("attachedToRef") or "", set())  # (2026-12-06)
        todo = [(node, False) for node in flows.get(timer, ())] + [(node, True) for node in messages.get(timer, ())]
        seen = set()
        while todo:
            node, by_message = todo.pop()
            if not node or (node, by_message) in seen:
                continue
            seen.add((node, by_message))
            found.add(node)
            found |= inside.get(node, set())
            for boundary in boundaries.get(node, ()):
                found.add(boundary)
                if is_timer(boundary):
                    todo.append((boundary, True))
            element = elements.get(node)
            if element is not None and _local(element) in MOMENT_STOPS and not by_message and not is_timer(node):
                continue
            todo.extend((target, False) for target in flows.get(node, ()))
            todo.extend((target, True) for target in messages.get(node, ()))
        otherwise = set()
        entered = _reference_entered(successors, inside)
        for entry in entries:
            otherwise |= _reference_reach(entry, successors, inside, avoid=timer, entered=entered)
        found |= _reference_reach(timer, successors, inside, entered=entered) - otherwise
        paths[timer] = GatewayPath(frozenset(names), _elements(found))
    return paths


def _called_branch_model(*, message: str = "", throw: str = "") -> str:
    from tests.bpmn.engine.bpmn_snippets import definitions

    return definitions(f"""
        {message}
        <bpmn:process id="Proc_main" isExecutable="true">
          <bpmn:startEvent id="StartEvent_1"/>
          <bpmn:sequenceFlow id="F1" sourceRef="StartEvent_1" targetRef="Fork"/>
          <bpmn:parallelGateway id="Fork"/>
          <bpmn:sequenceFlow id="F2" sourceRef="Fork" targetRef="Gateway_treatment"/>
          <bpmn:sequenceFlow id="F3" sourceRef="Fork" targetRef="Call_wait"/>
          <bpmn:exclusiveGateway id="Gateway_treatment" default="F5"/>
          <bpmn:sequenceFlow id="F4" sourceRef="Gateway_treatment" targetRef="Branch_treated">
            <bpmn:conditionExpression>needs_treatment == True</bpmn:conditionExpression>
          </bpmn:sequenceFlow>
          <bpmn:sequenceFlow id="F5" sourceRef="Gateway_treatment" targetRef="Task_pay"/>
          {throw or '<bpmn:callActivity id="Branch_treated" calledElement="Proc_home"/>'}
          <bpmn:sequenceFlow id="F6" sourceRef="Branch_treated" targetRef="Task_pay"/>
          <bpmn:userTask id="Task_pay"/>
          <bpmn:sequenceFlow id="F7" sourceRef="Task_pay" targetRef="End_a"/>
          <bpmn:endEvent id="End_a"/>
          <bpmn:callActivity id="Call_wait" calledElement="Proc_wait"/>
          <bpmn:sequenceFlow id="F8" sourceRef="Call_wait" targetRef="End_c"/>
          <bpmn:endEvent id="End_c"/>
        </bpmn:process>
    """)


def test_a_message_id_two_files_share_is_each_file_s_own():
    """Messages lie outside the processes, so deploy lets two files share a message's id
    (bpmn-js names the first ``Message_1``): the model's ``Message_1`` is "treat", thrown on
    the treatment branch; the called file's ``Message_1`` is "other", and its catch waits for
    "treat" (``Message_2``). Joined by id, the throw was taken for "other": the catch and NAV's
    task after it lay on no branch. The called file's elements of a shared id take another id
    in the analysis (``with_called``)."""
    from bpmn.engine.gateway_paths import path_splits, with_called
    from tests.bpmn.engine.bpmn_snippets import definitions

    throw = """<bpmn:intermediateThrowEvent id="Branch_treated">
            <bpmn:messageEventDefinition messageRef="Message_1"/>
          </bpmn:intermediateThrowEvent>"""
    model = _called_branch_model(message='<bpmn:message id="Message_1" name="treat"/>', throw=throw)
    waiting = definitions("""
        <bpmn:message id="Message_1" name="other"/>
        <bpmn:message id="Message_2" name="treat"/>
        <bpmn:process id="Proc_wait" isExecutable="true">
          <bpmn:startEvent id="W_start"/>
          <bpmn:sequenceFlow id="W1" sourceRef="W_start" targetRef="W_catch"/>
          <bpmn:intermediateCatchEvent id="W_catch"><bpmn:messageEventDefinition messageRef="Message_2"/>
          </bpmn:intermediateCatchEvent>
          <bpmn:sequenceFlow id="W2" sourceRef="W_catch" targetRef="Task_nav"/>
          <bpmn:userTask id="Task_nav"/>
          <bpmn:sequenceFlow id="W3" sourceRef="Task_nav" targetRef="W_end"/>
          <bpmn:endEvent id="W_end"/>
        </bpmn:process>
    """)
    (path,) = path_splits(with_called(model, [waiting])).values()
    assert {"W_catch", "Task_nav"} <= path.branch_elements


def test_a_task_id_a_called_file_shares_with_the_model_is_hidden_where_either_is():
    """A version deployed before deploy refused a task id shared by the model and a called file
    (``called-duplicate-id``): the called process's ``Task_pay`` was joined to the model's,
    which follows the gateway on every branch, so what follows the called one (the supported
    home, reached only through the call on the treatment branch) was reached on every branch
    and hidden from no one. The two are apart in the analysis now; the answers name the shared
    id, hidden where either is (a task of that id in a case may be either)."""
    from bpmn.engine.gateway_paths import handed_from, path_splits, with_called
    from tests.bpmn.engine.bpmn_snippets import definitions

    home = definitions("""
        <bpmn:process id="Proc_home" isExecutable="true">
          <bpmn:startEvent id="H_start"/>
          <bpmn:sequenceFlow id="H1" sourceRef="H_start" targetRef="Task_pay"/>
          <bpmn:userTask id="Task_pay"/>
          <bpmn:sequenceFlow id="F7" sourceRef="Task_pay" targetRef="Task_supported_home"/>
          <bpmn:userTask id="Task_supported_home"/>
          <bpmn:sequenceFlow id="H3" sourceRef="Task_supported_home" targetRef="H_end"/>
          <bpmn:endEvent id="H_end"/>
        </bpmn:process>
    """)
    waiting = definitions("""
        <bpmn:process id="Proc_wait" isExecutable="true">
          <bpmn:startEvent id="W_start"/>
          <bpmn:sequenceFlow id="W1" sourceRef="W_start" targetRef="W_end"/>
          <bpmn:endEvent id="W_end"/>
        </bpmn:process>
    """)
    document = with_called(_called_branch_model(), [home, waiting])
    (path,) = path_splits(document).values()
    assert {"Task_supported_home", "Task_pay"} <= path.branch_elements
    assert all("@shared" not in element for element in path.branch_elements)
    assert handed_from(document)["Task_supported_home"] == {"Task_pay"}
