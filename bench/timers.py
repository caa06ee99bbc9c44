"""`make bench`, timers: how many timers per second 1 and 2 worker processes fire.

Each round starts ``timers`` cases of a one-timer process whose timer is already due,
holds their timer jobs back, starts the workers (real ``manage.py worker`` processes on
the bench database), releases the jobs with one NOTIFY, and measures from the release
to the last job done. Every fired timer is a full engine step under the instance lock:
load, refresh timers, advance, save, create the next user task, write the events.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.db import connection
from django.db.models import Max

from bpmn.engine.clock import moved_clock
from bpmn.services import deploy_definition
from permissions.models import Agency
from workflows import services
from workflows.jobs import queue
from workflows.models import Job, JobKind, JobStatus, WorkerHeartbeat

REPO = Path(__file__).resolve().parent.parent
FORM = {
    "type": "object",
    "additionalProperties": False,
    "required": ["done"],
    "properties": {
        "fire_at": {"type": "string", "x-category": "coordination"},
        "done": {"type": "boolean", "x-category": "coordination"},
    },
}
MODEL = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Defs_bench" targetNamespace="bench">
  <bpmn:process id="bench_timer" name="Bench: wait, then work" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1"><bpmn:lane id="Lane_1" name="Kriminalomsorgen">
      <bpmn:flowNodeRef>StartEvent_1</bpmn:flowNodeRef><bpmn:flowNodeRef>Wait</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>Work</bpmn:flowNodeRef><bpmn:flowNodeRef>EndEvent_1</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="StartEvent_1"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="work.schema.json"/>
    </spiffworkflow:properties></bpmn:extensionElements></bpmn:startEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="StartEvent_1" targetRef="Wait"/>
    <bpmn:intermediateCatchEvent id="Wait"><bpmn:timerEventDefinition>
      <bpmn:timeDate>fire_at</bpmn:timeDate></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="F2" sourceRef="Wait" targetRef="Work"/>
    <bpmn:userTask id="Work" name="Work"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="work.schema.json"/>
    </spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>
    <bpmn:sequenceFlow id="F3" sourceRef="Work" targetRef="EndEvent_1"/>
    <bpmn:endEvent id="EndEvent_1"/>
  </bpmn:process>
</bpmn:definitions>"""
HELD_BACK = datetime(2999, 1, 1, tzinfo=UTC)


def _yesterday():
    """Start the cases 'yesterday', so their timers (due an hour ago) wait for a worker."""
    shifted = datetime.now(UTC) - timedelta(days=1)
    return moved_clock(lambda: shifted)


def _worker_env() -> dict:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    url = f"postgres://{db['USER']}{password}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"
    return {**os.environ, "DATABASE_URL": url, "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend"}


def _round(actor, agency, workers: int, timers: int) -> dict:
    fire_at = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    with _yesterday():
        cases = [
            services.start_case(
                actor=actor,
                process_key="bench_timer",
                person={"name": f"Bench {i}", "national_id": "17912099997"},
                participants={"prison": agency.pk},
                data={"fire_at": fire_at},
            ).pk
            for i in range(timers)
        ]
    pending = Job.objects.filter(kind=JobKind.TIMER, case_id__in=cases)
    pending.update(due_at=HELD_BACK)
    names = [f"bench-{workers}-{n}" for n in range(workers)]
    processes = [
        subprocess.Popen(  # noqa: S603 (our own manage.py)
            [sys.executable, "manage.py", "worker", "--name", name, "--poll", "1"],
            cwd=REPO,
            env=_worker_env(),
            stdout=subprocess.DEVNULL,
        )
        for name in names
    ]
    try:
        deadline = time.monotonic() + 60
        while WorkerHeartbeat.objects.filter(name__in=names).count() < workers and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # all idle and listening
        released = datetime.now(UTC)
        pending.update(due_at=released)
        queue.wake_workers()
        while pending.filter(status=JobStatus.PENDING).exists() and time.monotonic() < deadline + 600:
            time.sleep(0.01)
        last = pending.aggregate(last=Max("finished_at"))["last"]
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(30)
    seconds = (last - released).total_seconds()
    done = pending.filter(status=JobStatus.DONE).count()
    return {
        "workers": workers,
        "timers": done,
        "seconds": round(seconds, 3),
        "timers_per_second": round(done / seconds, 1),
    }


def run(*, timers: int = 500, user) -> dict:
    if connection.vendor != "postgresql":
        return {"skipped": "timer throughput with worker processes needs PostgreSQL (DATABASE_URL)"}
    deploy_definition(
        actor=None, bpmn_xml=MODEL, forms={"work.schema.json": FORM}, filename="bench.bpmn", check_permission=False
    )
    # Timers only: no new e-mail jobs, and the notifications the earlier parts of the bench
    # queued are not sent by these workers (they would be measured as timer time).
    Agency.objects.update(notification_email="", webhook_url="")
    Job.objects.filter(kind__in=queue.EXTERNAL_KINDS).delete()
    agency = Agency.objects.get(kind="prison")
    return {
        "rounds": [_round(user, agency, workers, timers) for workers in (1, 2)],
        "note": "each timer: lock, load, fire, advance, save, create the next task, events; one commit",
    }
