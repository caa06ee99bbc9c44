"""The process library shipped in bpmn/processes: static checks and full runs.

The engine alone (SpiffWorkflow with the restricted environment), no database. The three
housing-work processes of issue 15 have their runs in ``test_housing_processes.py``; the
static checks here cover every shipped process.
"""

import ast
import itertools
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from jsonschema import Draft202012Validator
from lxml import etree
from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from tests.clock import Clock

try:  # the colleague's restricted environment, once it exists
    from bpmn.engine.expressions import SCRIPT_ENGINE
except ModuleNotFoundError:
    SCRIPT_ENGINE = None

PROCESS_DIR = Path(__file__).resolve().parents[3] / "bpmn" / "processes"
FORM_DIR = PROCESS_DIR / "forms"

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
CATEGORIES = {"identity", "housing", "economy", "health", "justice", "coordination", "safety"}
LANE_KINDS = {
    "Kriminalomsorgen": "prison",
    "NAV": "nav",
    "Helse": "health",
    "Boligkontakt": "housing",
    "Sykehus": "hospital",
    "Kommune": "municipality",
}
OUTCOME_FORM = "case_outcome.schema.json"
FLOW_NODES = (
    "startEvent",
    "endEvent",
    "userTask",
    "manualTask",
    "task",
    "exclusiveGateway",
    "parallelGateway",
    "inclusiveGateway",
    "eventBasedGateway",
    "boundaryEvent",
    "intermediateCatchEvent",
    "intermediateThrowEvent",
    "subProcess",
    "callActivity",
)

# Each run is a list of steps; a step is the exact set of ready user tasks (id -> lane),
# all of which are completed before the next step.
PRISON = {
    "file": "prison_release_to_housing.bpmn",
    "process_id": "prison_release_to_housing",
    "name": "Løslatelse fra fengsel til bolig",
    "lanes": ["Kriminalomsorgen", "NAV", "Helse", "Boligkontakt"],
    "gateway_field": "has_home",
    "branch_keep": [
        {"Task_intake_interview": "Kriminalomsorgen"},
        {"Task_secure_rent": "NAV"},
    ],
    # every path ends with the housing contact recording the outcome
    "closing": [{"Task_record_outcome": "Boligkontakt"}],
    "branch_other": [
        {"Task_intake_interview": "Kriminalomsorgen"},
        {
            "Task_economy_assessment": "NAV",
            "Task_health_follow_up_plan": "Helse",
            "Task_housing_application": "Boligkontakt",
        },
        {"Task_find_home": "Boligkontakt"},
        {"Task_confirm_release_date": "Kriminalomsorgen"},
        {"Task_move_in_follow_up": "Boligkontakt"},
    ],
    "keep_value": True,  # has_home == True -> keep-home branch
    "boundary_host": "Task_find_home",
    # 09:00 Oslo time two months before the expected release date (a date field)
    "timer": ("BoundaryEvent_no_home_timer", "release"),
    # after moving in: a visit every month for six months (a bounded cycle)
    "follow_up": ("Event_monthly_follow_up", "Task_follow_up_visit", 6),
    "escalation": ("Task_escalation_no_home", "Boligkontakt"),
    "message": ("release_date_changed", "Task_adjust_housing_plan", "Boligkontakt"),
}
DISCHARGE = {
    "file": "institution_discharge_to_housing.bpmn",
    "process_id": "institution_discharge_to_housing",
    "name": "Utskriving fra institusjon til bolig",
    "lanes": ["Sykehus", "Helse", "NAV", "Boligkontakt"],
    "gateway_field": "can_receive",
    "branch_keep": [
        {"Task_notify_municipality": "Sykehus"},
        {"Task_cooperation_meeting": "Sykehus"},
        {"Task_declare_discharge_ready": "Sykehus"},
        {"Task_municipality_answer": "Helse"},
        {"Task_discharge": "Sykehus"},
        {"Task_follow_up": "Helse"},
    ],
    "closing": [{"Task_record_outcome": "Boligkontakt"}],
    "branch_other": [
        {"Task_notify_municipality": "Sykehus"},
        {"Task_cooperation_meeting": "Sykehus"},
        {"Task_declare_discharge_ready": "Sykehus"},
        {"Task_municipality_answer": "Helse"},
        {
            "Task_individual_plan": "Helse",
            "Task_nav_economy": "NAV",
            "Task_housing_application": "Boligkontakt",
        },
        {"Task_find_home": "Boligkontakt"},
        {"Task_discharge": "Sykehus"},
        {"Task_follow_up": "Helse"},
    ],
    "keep_value": True,  # can_receive == True -> straight to discharge
    "boundary_host": "Task_find_home",
    "timer": ("BoundaryEvent_waiting_timer", timedelta(days=7)),
    "escalation": ("Task_escalation_waiting", "Boligkontakt"),
    "message": ("discharge_date_changed", "Task_adjust_housing_plan", "Boligkontakt"),
}
PROCESSES = [PRISON, DISCHARGE]
ids = [p["process_id"] for p in PROCESSES]
# The housing-work processes (issue 15): static checks here, runs in test_housing_processes.py.
REFERRAL = {
    "file": "housing_referral.bpmn",
    "process_id": "housing_referral",
    "name": "Henvendelse om bolig",
    "lanes": ["Boligkontakt", "NAV", "Kommune"],
}
SETTLING_IN = {
    "file": "settling_in.bpmn",
    "process_id": "settling_in",
    "name": "Etablering og oppfølging i bolig",
    "lanes": ["Boligkontakt", "NAV", "Helse"],
}
EVICTION = {
    "file": "eviction_prevention.bpmn",
    "process_id": "eviction_prevention",
    "name": "Forebygging av utkastelse",
    "lanes": ["Boligkontakt", "NAV", "Helse"],
}
ALL = [*PROCESSES, *(p for p in (REFERRAL, SETTLING_IN, EVICTION) if (PROCESS_DIR / p["file"]).exists())]
all_ids = [p["process_id"] for p in ALL]


# ----------------------------------------------------------------- helpers


def load_tree(proc):
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.parse(str(PROCESS_DIR / proc["file"]), parser)


def process_el(proc):
    return load_tree(proc).find(f"bpmn:process[@id='{proc['process_id']}']", NS)


def user_task_forms(proc):
    """user task id -> form file name."""
    forms = {}
    for task in process_el(proc).iterfind(".//bpmn:userTask", NS):
        prop = task.find(
            "bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property[@name='formJsonSchemaFilename']",
            NS,
        )
        forms[task.get("id")] = prop.get("value") if prop is not None else None
    return forms


def load_form(name):
    return json.loads((FORM_DIR / name).read_text(encoding="utf-8"))


# A date well ahead, so that deadlines relative to it lie in the future.
SAMPLE_DATE = (date.today() + timedelta(days=365)).isoformat()
OSLO = ZoneInfo("Europe/Oslo")


def expected_due(proc):
    """When the process's escalation timer should fire for the sample data."""
    _, rule = proc["timer"]
    if rule == "release":
        release = date.fromisoformat(SAMPLE_DATE)
        month, year = release.month - 2, release.year
        if month < 1:
            month, year = month + 12, year - 1
        return datetime(year, month, min(release.day, 28), 9, 0, tzinfo=OSLO).astimezone(UTC)
    return datetime.now(UTC) + rule


def run_follow_up(wf, proc, monkeypatch):
    """Let the follow-up cycle fire every round (a month apart) and do each visit."""
    if "follow_up" not in proc:
        return
    event_id, visit_id, rounds = proc["follow_up"]
    clock = Clock(monkeypatch, datetime.now(UTC))
    for _ in range(rounds):
        waiting = [t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.WAITING) if t.task_spec.bpmn_id]
        assert waiting == [event_id], waiting
        assert ready_map(wf) == {}
        clock.advance(days=32)
        wf.refresh_timers()
        wf.do_engine_steps()
        assert ready_map(wf) == {visit_id: "Boligkontakt"}
        complete(wf, ready_user_tasks(wf)[0], proc, {})
    assert not [t for t in wf.get_tasks(state=TaskState.WAITING) if t.task_spec.bpmn_id]


def sample_data(schema, overrides=None):
    """Data valid for a form: every property filled with a plausible value."""
    data = {}
    for name, prop in schema["properties"].items():
        if "enum" in prop:
            data[name] = prop["enum"][0]
        elif prop["type"] == "boolean":
            data[name] = True
        elif prop["type"] == "integer":
            data[name] = max(prop.get("minimum", 0), 3)
        elif prop.get("format") == "date":
            data[name] = SAMPLE_DATE
        else:
            data[name] = "Avtalt i møte med personen."
    for key, value in (overrides or {}).items():
        if key in data:
            data[key] = value
    Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(data)
    return data


def parse(proc):
    parser = SpiffBpmnParser()
    parser.add_bpmn_str((PROCESS_DIR / proc["file"]).read_bytes(), filename=proc["file"])
    return parser.get_spec(proc["process_id"]), parser.get_subprocess_specs(proc["process_id"])


def new_workflow(proc):
    spec, subprocesses = parse(proc)
    kwargs = {"script_engine": SCRIPT_ENGINE} if SCRIPT_ENGINE is not None else {}
    wf = BpmnWorkflow(spec, subprocesses, **kwargs)
    wf.do_engine_steps()
    return wf


def ready_user_tasks(wf):
    return wf.get_tasks(state=TaskState.READY, manual=True)


def ready_map(wf):
    return {t.task_spec.bpmn_id: t.task_spec.lane for t in ready_user_tasks(wf)}


def complete(wf, task, proc, overrides):
    form = load_form(user_task_forms(proc)[task.task_spec.bpmn_id])
    task.data.update(sample_data(form, overrides))
    task.run()
    wf.do_engine_steps()


def run_steps(wf, proc, steps, overrides):
    for expected in steps:
        assert ready_map(wf) == expected
        for task in ready_user_tasks(wf):
            complete(wf, task, proc, overrides)


# ----------------------------------------------------------------- static checks


@pytest.mark.parametrize("proc", ALL, ids=all_ids)
def test_xml_conventions(proc):
    raw = (PROCESS_DIR / proc["file"]).read_bytes()
    assert b"<!DOCTYPE" not in raw
    root = load_tree(proc).getroot()
    assert root.tag == f"{{{NS['bpmn']}}}definitions"
    for prefix in ("bpmn", "bpmndi", "dc", "di", "spiffworkflow", "xsi"):
        assert root.nsmap.get(prefix) == NS[prefix]
    process = process_el(proc)
    assert process.get("isExecutable") == "true"
    assert process.get("name") == proc["name"]
    participants = root.findall("bpmn:collaboration/bpmn:participant", NS)
    assert [p.get("processRef") for p in participants] == [proc["process_id"]]
    all_ids = [el.get("id") for el in root.iter() if el.get("id")]
    assert len(all_ids) == len(set(all_ids)), "duplicate ids"
    assert not process.findall(".//bpmn:scriptTask", NS)
    assert not process.findall(".//bpmn:serviceTask", NS)


@pytest.mark.parametrize("proc", ALL, ids=all_ids)
def test_lanes_cover_every_flow_node(proc):
    process = process_el(proc)
    lanes = process.findall("bpmn:laneSet/bpmn:lane", NS)
    assert [lane.get("name") for lane in lanes] == proc["lanes"]
    assert all(lane.get("name") in LANE_KINDS for lane in lanes)
    refs = [ref.text for lane in lanes for ref in lane.iterfind("bpmn:flowNodeRef", NS)]
    nodes = [el.get("id") for tag in FLOW_NODES for el in process.iterfind(f"bpmn:{tag}", NS)]
    assert sorted(refs) == sorted(nodes)


@pytest.mark.parametrize("proc", ALL, ids=all_ids)
def test_user_tasks_have_form_and_due_date(proc):
    for task in process_el(proc).iterfind(".//bpmn:userTask", NS):
        props = {
            p.get("name"): p.get("value")
            for p in task.iterfind("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS)
        }
        assert props.get("formJsonSchemaFilename", "").endswith(".schema.json"), task.get("id")
        form = props["formJsonSchemaFilename"]
        assert (FORM_DIR / form).is_file(), f"{task.get('id')}: form {form} is missing"
        assert props.get("dueIn", "").startswith("P"), task.get("id")
        assert task.get("name"), task.get("id")


@pytest.mark.parametrize("proc", ALL, ids=all_ids)
def test_forms_are_valid_and_categorised(proc):
    owner = {}
    for task_id, name in user_task_forms(proc).items():
        schema = load_form(name)
        Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["type"] == "object"
        assert schema["title"]
        assert schema["additionalProperties"] is False
        assert set(schema["required"]) <= set(schema["properties"])
        for field, prop in schema["properties"].items():
            assert field == field.lower() and field.isidentifier(), field
            assert prop.get("x-category") in CATEGORIES, (name, field)
            assert prop.get("title"), (name, field)
            assert "type" in prop, (name, field)
            if "x-enum-labels" in prop:  # a bokmål label for every choice, and no other
                assert list(prop["x-enum-labels"]) == prop["enum"], (name, field)
            # one meaning per field name within a process
            assert field not in owner, f"{field} in both {owner.get(field)} and {name}"
            owner[field] = name


@pytest.mark.parametrize("proc", ALL, ids=all_ids)
def test_gateways_have_defaults_and_simple_conditions(proc):
    process = process_el(proc)
    flows = {f.get("id"): f for f in process.iterfind(".//bpmn:sequenceFlow", NS)}
    exclusive = process.findall(".//bpmn:exclusiveGateway", NS)
    assert exclusive
    fields = {field for name in user_task_forms(proc).values() for field in load_form(name)["properties"]}
    allowed = (
        ast.Expression,
        ast.Name,
        ast.Load,
        ast.Constant,
        ast.Compare,
        ast.BoolOp,
        ast.And,
        ast.Or,
        ast.UnaryOp,
        ast.Not,
        ast.Eq,
        ast.NotEq,
        ast.Lt,
        ast.LtE,
        ast.Gt,
        ast.GtE,
    )
    for gateway in exclusive:
        outgoing = [f for f in flows.values() if f.get("sourceRef") == gateway.get("id")]
        if len(outgoing) < 2:  # a merge
            continue
        default = gateway.get("default")
        assert default in {f.get("id") for f in outgoing}, gateway.get("id")
        for flow in outgoing:
            cond = flow.find("bpmn:conditionExpression", NS)
            if flow.get("id") == default:
                assert cond is None
                continue
            assert cond is not None, flow.get("id")
            tree = ast.parse(cond.text.strip(), mode="eval")
            for node in ast.walk(tree):
                assert isinstance(node, allowed), (flow.get("id"), type(node).__name__)
                if isinstance(node, ast.Name):
                    assert node.id in fields, node.id


@pytest.mark.parametrize("proc", PROCESSES, ids=ids)
def test_events_timers_and_messages(proc):
    root = load_tree(proc).getroot()
    process = process_el(proc)
    messages = {m.get("id"): m.get("name") for m in root.iterfind("bpmn:message", NS)}
    boundaries = process.findall("bpmn:boundaryEvent", NS)
    timers = [b for b in boundaries if b.find("bpmn:timerEventDefinition", NS) is not None]
    catches = [b for b in boundaries if b.find("bpmn:messageEventDefinition", NS) is not None]
    assert timers and catches
    for event in boundaries:
        assert event.get("cancelActivity") == "false", event.get("id")
        assert event.get("attachedToRef") == proc["boundary_host"]
    for timer in timers:
        duration = timer.find("bpmn:timerEventDefinition/bpmn:timeDuration", NS)
        if duration is None:  # a date computed from case data, always time-zone aware
            date_el = timer.find("bpmn:timerEventDefinition/bpmn:timeDate", NS)
            assert date_el.get(f"{{{NS['xsi']}}}type") == "bpmn:tFormalExpression"
            value = SCRIPT_ENGINE.environment.evaluate(date_el.text.strip(), {"expected_release_date": SAMPLE_DATE})
            assert datetime.fromisoformat(value).tzinfo is not None
            continue
        assert duration.get(f"{{{NS['xsi']}}}type") == "bpmn:tFormalExpression"
        literal = ast.literal_eval(duration.text.strip())  # a quoted Python string
        assert isinstance(literal, str)
        TimerEventDefinition.parse_iso_duration(literal)
    for cycle in process.iterfind(".//bpmn:intermediateCatchEvent/bpmn:timerEventDefinition/bpmn:timeCycle", NS):
        literal = ast.literal_eval(cycle.text.strip())
        count, _, _ = TimerEventDefinition.parse_iso_recurring_interval(literal)
        assert 0 < count <= 12, "a follow-up cycle is bounded"
    for catch in catches:
        ref = catch.find("bpmn:messageEventDefinition", NS).get("messageRef")
        assert messages.get(ref) == proc["message"][0]


@pytest.mark.parametrize("proc", ALL, ids=all_ids)
def test_flow_has_no_loops(proc):
    process = process_el(proc)
    edges = {}
    for flow in process.iterfind(".//bpmn:sequenceFlow", NS):
        edges.setdefault(flow.get("sourceRef"), []).append(flow.get("targetRef"))
    for event in process.iterfind(".//bpmn:boundaryEvent", NS):
        edges.setdefault(event.get("attachedToRef"), []).append(event.get("id"))
    state = {}

    def visit(node):
        state[node] = "open"
        for nxt in edges.get(node, []):
            assert state.get(nxt) != "open", f"loop through {nxt}"
            if nxt not in state:
                visit(nxt)
        state[node] = "done"

    for start in process.iterfind(".//bpmn:startEvent", NS):
        visit(start.get("id"))


@pytest.mark.parametrize("proc", ALL, ids=all_ids)
def test_every_path_ends_with_the_outcome_form(proc):
    """The housing contact closes every case with the outcome form (issue 15): each end
    event of the main flow follows the one outcome task; the side paths of boundary
    events end on their own."""
    process = process_el(proc)
    forms = user_task_forms(proc)
    (outcome_task,) = [task_id for task_id, form in forms.items() if form == OUTCOME_FORM]
    lane_of = {
        ref.text: lane.get("name")
        for lane in process.iterfind("bpmn:laneSet/bpmn:lane", NS)
        for ref in lane.iterfind("bpmn:flowNodeRef", NS)
    }
    assert lane_of[outcome_task] == "Boligkontakt"
    edges = {}
    for flow in process.iterfind("bpmn:sequenceFlow", NS):
        edges.setdefault(flow.get("sourceRef"), []).append(flow.get("targetRef"))
    side = set()
    stack = [b.get("id") for b in process.iterfind("bpmn:boundaryEvent", NS)]
    while stack:
        node = stack.pop()
        if node not in side:
            side.add(node)
            stack.extend(edges.get(node, []))
    assert outcome_task not in side
    incoming = {}
    for flow in process.iterfind("bpmn:sequenceFlow", NS):
        incoming.setdefault(flow.get("targetRef"), []).append(flow.get("sourceRef"))
    main_ends = [e.get("id") for e in process.iterfind("bpmn:endEvent", NS) if e.get("id") not in side]
    assert main_ends
    for end in main_ends:
        assert incoming[end] == [outcome_task], end


def _bounds(shape):
    b = shape.find("dc:Bounds", NS)
    return tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))


def _inside(inner, outer):
    x, y, w, h = inner
    ox, oy, ow, oh = outer
    return ox <= x and oy <= y and x + w <= ox + ow and y + h <= oy + oh


def _overlap(a, b):
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


@pytest.mark.parametrize("proc", ALL, ids=all_ids)
def test_every_element_has_a_diagram_shape_or_edge(proc):
    root = load_tree(proc).getroot()
    process = process_el(proc)
    subprocesses = process.findall(".//bpmn:subProcess", NS)
    plane = root.find("bpmndi:BPMNDiagram/bpmndi:BPMNPlane", NS)
    shapes = {s.get("bpmnElement"): s for s in plane.iterfind("bpmndi:BPMNShape", NS)}
    edges = {e.get("bpmnElement"): e for e in plane.iterfind("bpmndi:BPMNEdge", NS)}
    assert plane.get("bpmnElement") == root.find("bpmn:collaboration", NS).get("id")

    participant = root.find("bpmn:collaboration/bpmn:participant", NS).get("id")
    lanes = process.findall("bpmn:laneSet/bpmn:lane", NS)
    nodes = [el for tag in FLOW_NODES for el in process.iterfind(f".//bpmn:{tag}", NS)]
    element_ids = [participant, *(lane.get("id") for lane in lanes), *(n.get("id") for n in nodes)]
    for element_id in element_ids:
        assert element_id in shapes, f"no shape for {element_id}"
        assert _bounds(shapes[element_id])[2] > 0
    for flow in process.iterfind(".//bpmn:sequenceFlow", NS):
        edge = edges.get(flow.get("id"))
        assert edge is not None, f"no edge for {flow.get('id')}"
        points = [(float(p.get("x")), float(p.get("y"))) for p in edge.iterfind("di:waypoint", NS)]
        assert len(points) >= 2
        for (x0, y0), (x1, y1) in itertools.pairwise(points):
            assert x0 == x1 or y0 == y1, f"{flow.get('id')} has a diagonal segment"
            assert x1 >= x0 - 0.1, f"{flow.get('id')} runs right-to-left"

    # horizontal lanes stacked inside the pool, every node drawn inside its own lane,
    # no two nodes overlapping (a boundary event sits on its host's border)
    pool = _bounds(shapes[participant])
    assert shapes[participant].get("isHorizontal") == "true"
    lane_bounds = {}
    for lane in lanes:
        lane_bounds[lane.get("id")] = _bounds(shapes[lane.get("id")])
        assert _inside(lane_bounds[lane.get("id")], pool)
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            node_box = _bounds(shapes[ref.text])
            assert _inside(node_box, lane_bounds[lane.get("id")]), ref.text
    hosts = {b.get("id"): b.get("attachedToRef") for b in process.iterfind(".//bpmn:boundaryEvent", NS)}
    boxes = {n.get("id"): _bounds(shapes[n.get("id")]) for n in nodes}
    # an expanded sub-process is drawn around its own elements, inside its lane
    inside = {}
    for sub in subprocesses:
        assert shapes[sub.get("id")].get("isExpanded") == "true", sub.get("id")
        for tag in FLOW_NODES:
            for node in sub.iterfind(f"bpmn:{tag}", NS):
                inside[node.get("id")] = sub.get("id")
                assert _inside(boxes[node.get("id")], boxes[sub.get("id")]), node.get("id")

    def nested(a, b):
        while a in inside:
            a = inside[a]
            if a == b:
                return True
        return False

    names = sorted(boxes)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if hosts.get(a) == b or hosts.get(b) == a or nested(a, b) or nested(b, a):
                continue
            assert not _overlap(boxes[a], boxes[b]), f"{a} overlaps {b}"


# ----------------------------------------------------------------- runs


@pytest.mark.parametrize("proc", ALL, ids=all_ids)
def test_spiff_parses_fully(proc):
    spec, subprocesses = parse(proc)
    assert spec.name == proc["process_id"]
    # only embedded sub-processes (no call activity reaching outside the file)
    embedded = {sub.get("id") for sub in process_el(proc).iterfind(".//bpmn:subProcess", NS)}
    assert set(subprocesses) == embedded
    lanes = {
        t.lane for sp in (spec, *subprocesses.values()) for t in sp.task_specs.values() if getattr(t, "manual", False)
    }
    assert lanes == set(proc["lanes"])


@pytest.mark.parametrize("proc", PROCESSES, ids=ids)
def test_run_keep_branch(proc):
    wf = new_workflow(proc)
    run_steps(wf, proc, proc["branch_keep"], {proc["gateway_field"]: proc["keep_value"]})
    assert not wf.is_completed()  # the outcome is still to be recorded
    run_steps(wf, proc, proc["closing"], {})
    assert wf.is_completed()


@pytest.mark.parametrize("proc", PROCESSES, ids=ids)
def test_run_default_branch(proc, monkeypatch):
    wf = new_workflow(proc)
    parallel = [step for step in proc["branch_other"] if len(step) == 3]
    assert len(parallel) == 1 and len(set(parallel[0].values())) == 3
    run_steps(wf, proc, proc["branch_other"], {proc["gateway_field"]: not proc["keep_value"]})
    run_follow_up(wf, proc, monkeypatch)
    run_steps(wf, proc, proc["closing"], {})
    assert wf.is_completed()
    assert wf.last_task.data[proc["gateway_field"]] is (not proc["keep_value"])
    assert wf.last_task.data["outcome"] == "bosatt"


def _advance_to_boundary_host(wf, proc):
    steps = proc["branch_other"]
    host_index = next(i for i, step in enumerate(steps) if proc["boundary_host"] in step)
    run_steps(wf, proc, steps[:host_index], {proc["gateway_field"]: not proc["keep_value"]})
    assert ready_map(wf) == steps[host_index]
    return steps[host_index + 1 :]


def _waiting_boundary(wf, bpmn_id):
    tasks = [t for t in wf.get_tasks(state=TaskState.WAITING) if t.task_spec.bpmn_id == bpmn_id]
    assert len(tasks) == 1, bpmn_id
    return tasks[0]


@pytest.mark.parametrize("proc", PROCESSES, ids=ids)
def test_timer_escalates_without_interrupting(proc, monkeypatch):
    wf = new_workflow(proc)
    rest = _advance_to_boundary_host(wf, proc)
    timer_id, _ = proc["timer"]
    timer = _waiting_boundary(wf, timer_id)
    due = datetime.fromisoformat(timer._get_internal_data("event_value"))
    assert abs(due - expected_due(proc)) < timedelta(minutes=5)

    timer._set_internal_data(event_value=(datetime.now(UTC) - timedelta(seconds=1)).isoformat())
    wf.refresh_timers()
    wf.do_engine_steps()
    escalation_id, escalation_lane = proc["escalation"]
    assert ready_map(wf) == {proc["boundary_host"]: "Boligkontakt", escalation_id: escalation_lane}

    for task in ready_user_tasks(wf):
        complete(wf, task, proc, {})
    run_steps(wf, proc, rest, {})
    run_follow_up(wf, proc, monkeypatch)
    run_steps(wf, proc, proc["closing"], {})
    assert wf.is_completed()


@pytest.mark.parametrize("proc", PROCESSES, ids=ids)
def test_message_is_caught_without_interrupting(proc, monkeypatch):
    wf = new_workflow(proc)
    rest = _advance_to_boundary_host(wf, proc)
    message_name, task_id, lane = proc["message"]
    waiting = [
        t
        for t in wf.get_tasks(state=TaskState.WAITING)
        if isinstance(getattr(t.task_spec, "event_definition", None), MessageEventDefinition)
    ]
    assert [t.task_spec.event_definition.name for t in waiting] == [message_name]
    wf.send_event(BpmnEvent(waiting[0].task_spec.event_definition, {"new_date": "2026-10-01"}))
    wf.do_engine_steps()
    assert ready_map(wf) == {proc["boundary_host"]: "Boligkontakt", task_id: lane}

    for task in ready_user_tasks(wf):
        complete(wf, task, proc, {})
    run_steps(wf, proc, rest, {})
    run_follow_up(wf, proc, monkeypatch)
    run_steps(wf, proc, proc["closing"], {})
    assert wf.is_completed()
