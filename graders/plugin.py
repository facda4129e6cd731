"""The pytest plugin loaded inside the grading child (`-p graders.plugin`).

It gives graders the learner's module (`solution` fixture) and a way to record figures
(`record_metric`), and reports every check as one JSON line in the report file, flushed
as it happens, so the parent learns what ran even if the process dies mid-test.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import traceback
from pathlib import Path
from typing import Any

import pytest

from graders import integrity, stuck
from graders.requires import HardwareSkip, Inconclusive, PackageSkip

pytest_plugins = ["graders.bench_fixture"]  # the `bench` fixture (benchmarks and targets)

MESSAGE_CHARS = 500
DETAIL_CHARS = 4000
_reporter_key = pytest.StashKey["Reporter"]()
_guard_key = pytest.StashKey[integrity.ModuleGuard]()
_cases_key = pytest.StashKey[dict]()


class Reporter:
    def __init__(self, path: str, key: bytes | None = None):
        self._file = open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
        self._signer = integrity.Signer(key)  # signed lines: the solution cannot forge them

    def emit(self, event: str, **data: Any) -> None:
        self._file.write(self._signer.line({"event": event, **data}))
        self._file.flush()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mltrack")
    group.addoption("--mltrack-solution", help="folder holding the learner's solution")
    group.addoption("--mltrack-module", default="solution", help="module the learner writes")
    group.addoption("--mltrack-api", default="",
                    help="comma-separated names the module must define")
    group.addoption("--mltrack-report", help="JSON-lines file the results are written to")
    group.addoption("--mltrack-check-timeout", type=float, default=0.0,
                    help="seconds each check's setup, call and teardown may take (0: no limit)")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_cases_key] = {}
    path = config.getoption("--mltrack-report")
    if path:
        config.stash[_reporter_key] = Reporter(path, integrity.take_key())
        _emit(config, "start")


def _emit(config: pytest.Config, event: str, **data: Any) -> None:
    reporter = config.stash.get(_reporter_key, None)
    if reporter is not None:
        reporter.emit(event, **data)


def _trim(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit // 2] + "\n…\n" + text[-limit // 2 :]


# ---- the learner's module -------------------------------------------------------------


class SolutionImportError(Exception):
    pass


_loaded: dict[str, Any] = {}


def load_solution(config: pytest.Config) -> Any:
    """Import the learner's module once; failures become one clear, cached message."""
    if "module" in _loaded:
        return _loaded["module"]
    if "error" in _loaded:
        pytest.fail(_loaded["error"], pytrace=False)
    folder = config.getoption("--mltrack-solution")
    name = config.getoption("--mltrack-module")
    try:
        module = _import(Path(folder), name)
    except SolutionImportError as exc:
        _loaded["error"] = str(exc)
        _emit(config, "import_error", message=str(exc))
        pytest.fail(str(exc), pytrace=False)
    tampered = _guard(config, "while the solution was imported")
    if tampered:
        _loaded["error"] = tampered
        pytest.fail(tampered, pytrace=False)
    names = config.getoption("--mltrack-api").split(",")
    missing = [n for n in names if n and not hasattr(module, n)]
    if missing:
        _emit(config, "api_missing", names=missing)
    _loaded["module"] = module
    return module


def _import(folder: Path, name: str) -> Any:
    path = folder / f"{name}.py"
    if not path.is_file():
        raise SolutionImportError(f"{name}.py not found in the solution folder")
    hiding = integrity.shadowing(folder, name)  # e.g. a numpy.py that would fake the oracle
    if hiding:
        raise SolutionImportError(
            f"the solution folder has {', '.join(hiding)}, which would hide the installed "
            "module(s) of that name from the grader: rename it")
    sys.path.insert(0, str(folder))  # so the solution can import its own helper modules
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        raise SolutionImportError(
            f"{name}.py has a syntax error at line {exc.lineno}: {exc.msg}"
        ) from None
    except SystemExit as exc:
        raise SolutionImportError(
            f"{name}.py called sys.exit({exc.code!r}) while being imported"
        ) from None
    except Exception as exc:  # anything the learner's top-level code raises
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(path)]
        where = f" (line {frames[-1].lineno})" if frames else ""
        raise SolutionImportError(
            f"{name}.py could not be imported{where}: {type(exc).__name__}: {exc}"
        ) from None
    return module


@pytest.fixture(scope="session")
def solution(request: pytest.FixtureRequest) -> Any:
    """The learner's module, imported from the solution folder."""
    return load_solution(request.config)


@pytest.fixture(scope="session")
def solution_dir(request: pytest.FixtureRequest) -> Path:
    """The folder holding the learner's files (a scratch copy: writing to it is harmless)."""
    return Path(request.config.getoption("--mltrack-solution"))


@pytest.fixture
def record_metric(request: pytest.FixtureRequest):
    """Record a measured figure: `record_metric("speedup", 1.8, unit="x", target=">= 1.5")`."""

    def record(name: str, value: float, unit: str = "", target: str = "", verdict: str = "",
               **details: Any) -> None:
        _emit(request.config, "metric", nodeid=request.node.nodeid, name=name,
              value=float(value), unit=unit, target=target, verdict=verdict, details=details)

    return record


# ---- reporting ------------------------------------------------------------------------


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        config = _config_of(report)
        if config is not None:
            _emit(config, "collect_error", nodeid=report.nodeid,
                  message=_trim(str(report.longreprtext), DETAIL_CHARS))


_session_config: list[pytest.Config] = []


def pytest_sessionstart(session: pytest.Session) -> None:
    _session_config.append(session.config)


def _config_of(_report: Any) -> pytest.Config | None:
    return _session_config[0] if _session_config else None


def pytest_collection_finish(session: pytest.Session) -> None:
    _emit(session.config, "collected", nodeids=[item.nodeid for item in session.items])
    # before any learner code runs
    guard = integrity.ModuleGuard(session.config.rootpath, session.config.pluginmanager)
    guard.baseline()
    session.config.stash[_guard_key] = guard


def _guard(config: pytest.Config, when: str, full: bool = True) -> str:
    """What the solution changed in the grader's modules (reported once), or ''."""
    guard = config.stash.get(_guard_key, None)
    message = guard.check(when, full) if guard is not None else ""
    if message and guard.first_report():
        _emit(config, "tampered", message=message)
    return message


def pytest_runtest_logstart(nodeid: str, location: Any) -> None:
    config = _config_of(None)
    if config is not None:
        _emit(config, "begin", nodeid=nodeid)


def _within_budget(item: pytest.Item, phase: str):
    budget = item.config.getoption("--mltrack-check-timeout")
    if not budget:
        return (yield)
    what = "the check" if phase == "call" else f"the check's {phase}"
    stuck.arm_check(budget, what)
    try:
        return (yield)
    except stuck.CheckTimeout:
        # the next checks would most likely loop as well: the verdict comes now
        item.session.shouldstop = "a check ran past its time budget"
        raise
    finally:
        stuck.disarm_check()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    return (yield from _within_budget(item, "setup"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    return (yield from _within_budget(item, "call"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    return (yield from _within_budget(item, "teardown"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if call.excinfo is not None:
        if call.excinfo.errisinstance(Inconclusive):
            report.user_properties.append(("skip_kind", "inconclusive"))
        elif call.excinfo.errisinstance(HardwareSkip):
            report.user_properties.append(("skip_kind", "hardware"))
        elif call.excinfo.errisinstance(PackageSkip):
            report.user_properties.append(("skip_kind", "package"))
        elif call.excinfo.errisinstance(NotImplementedError):
            report.user_properties.append(("not_implemented", str(call.excinfo.value)))
    return report


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    config = _config_of(report)
    if config is None:
        return
    cases = config.stash[_cases_key]
    case = cases.setdefault(report.nodeid, {"outcome": "passed", "duration_s": 0.0,
                                            "message": "", "details": "", "skip_kind": ""})
    case["duration_s"] += report.duration
    if case["outcome"] != "passed":
        return  # the first problem is the one worth reporting
    if report.skipped:
        kind = dict(report.user_properties).get("skip_kind", "other")
        case["outcome"] = "inconclusive" if kind == "inconclusive" else "skipped"
        case["message"] = _skip_reason(report)
        case["skip_kind"] = "" if kind == "inconclusive" else kind
    elif report.failed:
        case["outcome"] = "failed" if report.when == "call" else "error"
        case["message"] = _failure_message(report)
        details = str(report.longreprtext)
        if report.capstdout:
            details += "\n--- captured stdout ---\n" + report.capstdout
        case["details"] = _trim(details, DETAIL_CHARS)


def pytest_runtest_logfinish(nodeid: str, location: Any) -> None:
    config = _config_of(None)
    if config is not None:
        case = config.stash[_cases_key].get(nodeid, {"outcome": "error", "message": "no report"})
        tampered = _guard(config, f"during {nodeid.split('::')[-1]}", full=False)
        if tampered:
            case = {**case, "outcome": "error", "message": tampered}
        _emit(config, "case", nodeid=nodeid, **case)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _guard(session.config, "by the end of grading")
    _emit(session.config, "finish", exitstatus=int(exitstatus))


_SKIP_PREFIX = re.compile(r"^(?:Skipped|[\w.]*(?:HardwareSkip|PackageSkip|Inconclusive)): ")


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return _SKIP_PREFIX.sub("", reason)


def _failure_message(report: pytest.TestReport) -> str:
    props = dict(report.user_properties)
    if "not_implemented" in props:
        text = props["not_implemented"]
        return f"not implemented yet: {text}" if text else "not implemented yet"
    crash = getattr(report.longrepr, "reprcrash", None)
    message = crash.message if crash is not None else str(report.longrepr).strip()
    # pytest.fail(..., pytrace=False) and plain asserts both read best as their first lines
    lines = [line for line in message.splitlines() if line.strip()]
    # the first line carries the grader's own message; pytest's "where ..." lines follow
    text = lines[0] if lines else "failed"
    for noise in ("Failed: ", "AssertionError: ", "graders.stuck.CheckTimeout: ",
                  "CheckTimeout: "):
        text = text.removeprefix(noise)
    return _trim(text, MESSAGE_CHARS)
