"""The corpus execution report as a test (issue 14): every corpus file deployed with a
routing map, started and worked through the services; none crashes, and of the files bare
SpiffWorkflow runs to the end, the measured number run to the end in Brobygger too.

``.venv/bin/python -m tests.bpmn.engine.corpus_run`` prints the same report (README).
"""

from __future__ import annotations

import pytest

from tests.bpmn.engine import corpus_report as report
from tests.bpmn.engine import corpus_run

if not report.corpus_available():
    pytest.skip(f"BPMN corpus not found at {report.CORPUS}", allow_module_level=True)

pytestmark = pytest.mark.django_db

# Measured 2026-12-03 (README "Conformance with other modelers' files"); a drop is a regression.
SPIFF_SET_COMPLETED_AT_LEAST = 60


def test_corpus_runs_without_a_crash_and_the_spiffworkflow_set_completes(capsys):
    outcomes = corpus_run.run_corpus()
    with capsys.disabled():
        print("\n" + corpus_run.format_report(outcomes))
    assert [o.path for o in outcomes if o.outcome == "crashed"] == []
    summary = corpus_run.summarize(outcomes)
    assert summary["files"] == len(report.corpus_files())
    assert summary["spiff_set_outcomes"].get("completed", 0) >= SPIFF_SET_COMPLETED_AT_LEAST
    for outcome in outcomes:
        if outcome.outcome in ("refused", "incident"):
            assert outcome.codes and outcome.detail, outcome.path  # every refusal says why
