"""Deploy every file of the shared BPMN corpus and report what happened.

Run from the repository root::

    .venv/bin/python -m tests.bpmn.engine.corpus_report

The corpus (real BPMN 2.0 and DMN files from other modelers and engines) lives beside
the repository in ``../shared/bpmn-corpus/`` and is never copied into it. Each file is
compiled with ``compile_definition`` under a watchdog, with no forms and, when JSON files
sit beside it, with those as forms too. The outcome of a call is one of ``deployed``,
``refused`` (``BpmnValidationError``), ``crashed`` (any other exception: a bug) or
``timeout`` (a bug). ``tests/engine/test_corpus.py`` asserts on the same outcomes.

While the corpus is compiled, ``no_code_execution`` records any attempt to evaluate or
execute something: the script engines' evaluate/execute/call_service, the DMN engine,
and (through an audit hook) any ``exec``/``eval`` of code that does not come from a
source file on disk. Deploying only parses; the list must stay empty.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
CORPUS = REPO.parent / "shared" / "bpmn-corpus"
TIME_LIMIT = 5.0  # seconds per compile_definition call

MODEL_SUFFIXES = (".bpmn", ".bpmn20.xml", ".dmn")

# Issue codes that describe the file as a whole; an issue without an element id must
# have one of these codes (everything else points at the element it is about).
FILE_LEVEL_CODES = frozenset(
    {
        "too-large",
        "doctype",
        "not-well-formed",
        "wrong-namespace",
        "no-executable-process",
        "several-executable-processes",
        "bpmn-invalid",
        "unsupported",
        "unknown-lane-kind",
        "invalid-lane-map",
    }
)


class CorpusTimeout(BaseException):
    """Raised by the watchdog inside a compile that ran past the time limit.

    A BaseException, so no ``except Exception`` in the engine can swallow it.
    """


@dataclass
class Outcome:
    path: Path
    variant: str  # "no forms" or "forms beside"
    kind: str  # deployed, refused, crashed, timeout
    seconds: float
    result: object = None  # CompiledDefinition or BpmnValidationError
    error: str = ""  # for crashed: type, message and traceback
    forms: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return relative(self.path)

    @property
    def issues(self) -> list:
        return list(getattr(self.result, "issues", []) or [])


def relative(path: Path) -> str:
    try:
        return path.relative_to(CORPUS).as_posix()
    except ValueError:
        return str(path)


def corpus_available() -> bool:
    return CORPUS.is_dir()


def is_model_file(path: Path) -> bool:
    return path.is_file() and path.name.lower().endswith(MODEL_SUFFIXES)


def is_dmn(path: Path) -> bool:
    return path.name.lower().endswith(".dmn")


def corpus_files() -> list[Path]:
    """Every BPMN (``.bpmn``, ``.bpmn20.xml``) and DMN file of the corpus, sorted."""
    if not corpus_available():
        return []
    return sorted(path for path in CORPUS.rglob("*") if is_model_file(path))


def manifest_paths() -> list[str]:
    import csv

    manifest = CORPUS / "MANIFEST.csv"
    if not manifest.is_file():
        return []
    with manifest.open(newline="", encoding="utf-8") as handle:
        return [row["path"] for row in csv.DictReader(handle)]


def forms_beside(path: Path) -> dict[str, object]:
    """The JSON files in the folder of ``path``, by file name (what a deploy would upload)."""
    forms = {}
    for candidate in sorted(path.parent.glob("*.json")):
        try:
            forms[candidate.name] = json.loads(candidate.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue  # not a form: the upload would have failed before the deploy
    return forms


def variants(path: Path) -> list[tuple[str, dict]]:
    result = [("no forms", {})]
    beside = forms_beside(path)
    if beside:
        result.append(("forms beside", beside))
    return result


# --- bounded calls -----------------------------------------------------------------------


def call_with_watchdog(func, limit: float = TIME_LIMIT):
    """Run ``func()``; raise ``CorpusTimeout`` when it takes longer than ``limit`` seconds.

    In the main thread of a POSIX process a SIGALRM timer interrupts the call itself;
    elsewhere the call runs in a daemon thread that is abandoned when it overruns (the
    caller still gets the timeout instead of blocking).
    """
    if hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread():

        def on_alarm(signum, frame):
            raise CorpusTimeout(f"did not finish within {limit} s")

        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, limit)
        try:
            return func()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)

    box: dict[str, object] = {}

    def target():
        try:
            box["value"] = func()
        except BaseException as exc:
            box["error"] = exc

    worker = threading.Thread(target=target, daemon=True, name="corpus-watchdog")
    worker.start()
    worker.join(limit)
    if worker.is_alive():
        raise CorpusTimeout(f"did not finish within {limit} s")
    if "error" in box:
        raise box["error"]
    return box.get("value")


def compile_file(path: Path, *, forms: dict, variant: str = "no forms", limit: float = TIME_LIMIT) -> Outcome:
    from bpmn.engine.definition import compile_definition
    from bpmn.engine.errors import BpmnValidationError

    data = path.read_bytes()
    started = time.perf_counter()
    try:
        result = call_with_watchdog(
            lambda: compile_definition(data, forms=forms, lanes=None, filename=path.name), limit
        )
    except BpmnValidationError as exc:
        return Outcome(path, variant, "refused", time.perf_counter() - started, exc, forms=forms)
    except CorpusTimeout as exc:
        return Outcome(path, variant, "timeout", time.perf_counter() - started, error=str(exc), forms=forms)
    except Exception as exc:
        detail = "".join(traceback.format_exception(exc, limit=-6))
        return Outcome(
            path,
            variant,
            "crashed",
            time.perf_counter() - started,
            error=f"{type(exc).__name__}: {exc}\n{detail}",
            forms=forms,
        )
    return Outcome(path, variant, "deployed", time.perf_counter() - started, result, forms=forms)


# --- no code execution at deploy ------------------------------------------------------------

_GUARD: dict[str, list | None] = {"calls": None}
_HOOK_INSTALLED = False


def _audit(event: str, args: tuple) -> None:
    calls = _GUARD["calls"]
    if calls is None or event != "exec" or not args:
        return
    code = args[0]
    filename = getattr(code, "co_filename", "")
    if filename and os.path.isfile(filename):
        return  # a module being imported, not text from a model
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return  # code generated while a module is imported (attrs, dataclasses)
        frame = frame.f_back
    calls.append(f"exec of {getattr(code, 'co_name', '?')} from {filename or '?'}")


def _patch_targets() -> list[tuple[type, str]]:
    from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
    from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

    from bpmn.engine import expressions

    targets = [(PythonScriptEngine, name) for name in ("evaluate", "execute", "call_service")]
    environments = {BasePythonScriptEngineEnvironment}
    environments.update(
        cls
        for cls in vars(expressions).values()
        if isinstance(cls, type) and issubclass(cls, BasePythonScriptEngineEnvironment)
    )
    for cls in environments:
        targets += [(cls, name) for name in ("evaluate", "execute", "call_service") if name in vars(cls)]
    engines = {
        cls for cls in vars(expressions).values() if isinstance(cls, type) and issubclass(cls, PythonScriptEngine)
    }
    for cls in engines - {PythonScriptEngine}:
        targets += [(cls, name) for name in ("evaluate", "execute", "call_service") if name in vars(cls)]
    try:
        from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine
    except ImportError:  # pragma: no cover - the DMN package ships with SpiffWorkflow
        pass
    else:
        targets += [(DMNEngine, name) for name in ("decide", "evaluate", "result") if name in vars(DMNEngine)]
    return targets


@contextmanager
def no_code_execution() -> Iterator[list[str]]:
    """Record every evaluation or execution attempted inside the block (yields the list)."""
    global _HOOK_INSTALLED
    calls: list[str] = []
    originals = []
    for cls, name in _patch_targets():
        original = vars(cls)[name]

        def spy(*args, _cls=cls, _name=name, _original=original, **kwargs):
            calls.append(f"{_cls.__name__}.{_name}")
            raise AssertionError(f"{_cls.__name__}.{_name} called while deploying")

        originals.append((cls, name, original))
        setattr(cls, name, spy)
    if not _HOOK_INSTALLED:
        sys.addaudithook(_audit)  # hooks cannot be removed; it is idle outside the block
        _HOOK_INSTALLED = True
    _GUARD["calls"] = calls
    try:
        yield calls
    finally:
        _GUARD["calls"] = None
        for cls, name, original in originals:
            setattr(cls, name, original)


# --- the whole corpus -----------------------------------------------------------------------


def warm_up() -> None:
    """Import everything compile_definition uses, so imports do not count as a file's time."""
    from bpmn.engine.definition import compile_definition

    compile_definition(
        b'<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">'
        b'<process id="p" isExecutable="true"><startEvent id="s"/></process></definitions>',
        forms={},
        lanes=None,
        filename="warm-up.bpmn",
    )


def run_corpus(paths: list[Path] | None = None) -> list[Outcome]:
    warm_up()
    outcomes = []
    for path in corpus_files() if paths is None else paths:
        for variant, forms in variants(path):
            outcomes.append(compile_file(path, forms=forms, variant=variant))
    return outcomes


def summarize(outcomes: list[Outcome]) -> dict:
    kinds = Counter(outcome.kind for outcome in outcomes)
    files_by_code: Counter[str] = Counter()
    issues_by_code: Counter[str] = Counter()
    first_code: Counter[str] = Counter()
    for outcome in outcomes:
        if outcome.kind != "refused":
            continue
        codes = [issue.code for issue in outcome.issues]
        issues_by_code.update(codes)
        files_by_code.update(set(codes))
        first_code[codes[0]] += 1
    slowest = max(outcomes, key=lambda outcome: outcome.seconds, default=None)
    return {
        "files": len({outcome.path for outcome in outcomes}),
        "bpmn_files": len({outcome.path for outcome in outcomes if not is_dmn(outcome.path)}),
        "dmn_files": len({outcome.path for outcome in outcomes if is_dmn(outcome.path)}),
        "calls": len(outcomes),
        "kinds": dict(kinds),
        "files_by_code": files_by_code,
        "issues_by_code": issues_by_code,
        "first_code": first_code,
        "slowest": (slowest.name, slowest.variant, slowest.seconds) if slowest else None,
        "total_seconds": sum(outcome.seconds for outcome in outcomes),
    }


def format_report(outcomes: list[Outcome], top: int = 15) -> str:
    summary = summarize(outcomes)
    kinds = summary["kinds"]
    lines = [
        f"BPMN corpus: {CORPUS}",
        f"files: {summary['files']} ({summary['bpmn_files']} BPMN, {summary['dmn_files']} DMN); "
        f"compile calls: {summary['calls']}",
        "outcomes: "
        + ", ".join(f"{kind} {kinds.get(kind, 0)}" for kind in ("deployed", "refused", "crashed", "timeout")),
        f"refused, by issue code (files with at least one such issue; top {top}):",
    ]
    for code, count in summary["files_by_code"].most_common(top):
        lines.append(
            f"  {code:30} {count:4} files  {summary['issues_by_code'][code]:4} issues  "
            f"(first issue in {summary['first_code'].get(code, 0)})"
        )
    if summary["slowest"]:
        name, variant, seconds = summary["slowest"]
        lines.append(f"slowest: {seconds * 1000:.1f} ms  {name} ({variant}); limit {TIME_LIMIT} s")
    lines.append(f"total compile time: {summary['total_seconds']:.2f} s")
    for outcome in outcomes:
        if outcome.kind in ("crashed", "timeout"):
            lines.append(f"{outcome.kind.upper()}: {outcome.name} ({outcome.variant}): {outcome.error}")
    return "\n".join(lines)


def main() -> int:
    if not corpus_available():
        print(f"no corpus at {CORPUS}; nothing to report", file=sys.stderr)
        return 2
    warm_up()
    with no_code_execution() as calls:
        outcomes = run_corpus()
    print(format_report(outcomes))
    print(f"code executed while deploying: {len(calls)}" + (f" ({calls[:5]})" if calls else ""))
    bad = [outcome for outcome in outcomes if outcome.kind in ("crashed", "timeout")]
    return 1 if bad or calls else 0


if __name__ == "__main__":
    sys.exit(main())
