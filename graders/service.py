"""Start a learner's service on loopback, drive it, and always stop it.

The server days (phase 5) grade services for real: the grader starts the learner's server
as a child process on 127.0.0.1 and a port it picks, waits until the server answers, sends
it bounded load, and stops it. Whatever the verdict, nothing is left behind: the server
runs in its own session, every process it started is remembered, and stopping sends
SIGTERM, waits a grace period, then SIGKILLs whatever is left (a server that ignores
SIGTERM included). The grading sandbox also gives each grade its own network namespace, so
load can only ever reach loopback.

    with serve(python_call(solution_dir, "solution:run", port), port=port,
               ready=http_ready("/health")) as svc:
        httpx.get(svc.url + "/predict", ...)

Failures raise AssertionError subclasses, so pytest reports them as failed checks with the
reason and the server's last output: `ServiceCrashed` (exited before it was ready, or
while it was being driven) and `ServiceTimeout` (never became ready in time).
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil

HOST = "127.0.0.1"
OUTPUT_TAIL = 2000  # characters of the server's output quoted in a verdict
PORT_RETRIES = 3  # another process may take a free port between picking and binding it


class ServiceCrashed(AssertionError):
    """The server exited when it should have been running."""


class ServiceTimeout(AssertionError):
    """The server did not become ready within its start time."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def port_free(port: int) -> bool:
    """Whether nothing listens on `port` (TIME_WAIT leftovers of closed connections are fine)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


def tcp_ready(port: int) -> bool:
    """Ready when a TCP connection to the port is accepted (gRPC and other non-HTTP servers)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((HOST, port)) == 0


def http_ready(path: str = "/health") -> Callable[[int], bool]:
    """Ready when GET `path` answers 200."""
    def check(port: int) -> bool:
        conn = http.client.HTTPConnection(HOST, port, timeout=1.0)
        try:
            conn.request("GET", path)
            return conn.getresponse().status == 200
        except OSError:
            return False
        finally:
            conn.close()
    return check


def python_call(solution_dir: Path | str, target: str, *args: object) -> list[str]:
    """argv that imports `module:function` from the solution folder and calls it with args.

    The function is expected to serve until it is stopped (e.g. `uvicorn.run(...)`).
    """
    module, _, function = target.partition(":")
    code = (f"import sys; sys.path.insert(0, {str(solution_dir)!r}); "
            f"import {module}; {module}.{function}(*{tuple(args)!r})")
    return [sys.executable, "-c", code]


def uvicorn_app(solution_dir: Path | str, target: str, port: int) -> list[str]:
    """argv that serves the ASGI app `module:attribute` with uvicorn on loopback."""
    return [sys.executable, "-m", "uvicorn", target, "--app-dir", str(solution_dir),
            "--host", HOST, "--port", str(port), "--workers", "1", "--log-level", "warning"]


@dataclass
class Running:
    """A started server: where it listens and what it printed."""

    port: int
    process: subprocess.Popen
    log: Path
    # every process seen in its tree; psutil checks a pid was not reused before signalling
    family: dict[int, psutil.Process] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def output(self) -> str:
        """The end of what the server wrote to stdout and stderr."""
        try:
            data = self.log.read_bytes()[-OUTPUT_TAIL:]
        except OSError:
            return ""
        return data.decode(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def check_alive(self) -> None:
        """Raise ServiceCrashed if the server has exited."""
        if not self.alive():
            raise ServiceCrashed(
                f"the server exited with code {self.process.returncode} while it was being "
                f"driven; its last output:\n{self.output()}")

    def remember_children(self) -> None:
        """Note the pids of the server's process tree, so that stop() finds them all."""
        with contextlib.suppress(psutil.Error):
            root = psutil.Process(self.process.pid)
            for child in root.children(recursive=True):
                self.family.setdefault(child.pid, child)


@contextlib.contextmanager
def serve(argv: list[str] | Callable[[int], list[str]], *, port: int | None = None,
          ready: Callable[[int], bool] = tcp_ready, start_timeout_s: float = 15.0,
          stop_timeout_s: float = 3.0, env: dict[str, str] | None = None,
          cwd: Path | str | None = None) -> Iterator[Running]:
    """Run a server for the length of the with-block.

    `argv` is the command, or a function of the port that builds it (then a port taken
    between picking and binding is retried with another). The block starts once `ready(port)`
    is true; the server is stopped on every way out of the block.
    """
    for attempt in range(PORT_RETRIES):
        chosen = port if port is not None else free_port()
        command = argv(chosen) if callable(argv) else argv
        svc = _start(command, chosen, env, cwd)
        try:
            _wait_ready(svc, ready, start_timeout_s)
        except ServiceCrashed as exc:
            stop(svc, stop_timeout_s)
            retry = callable(argv) and port is None and attempt + 1 < PORT_RETRIES
            if retry and "address already in use" in str(exc).lower():
                continue
            raise
        except BaseException:
            stop(svc, stop_timeout_s)
            raise
        break
    try:
        yield svc
    finally:
        stop(svc, stop_timeout_s)


def _start(argv: list[str], port: int, env: dict[str, str] | None,
           cwd: Path | str | None) -> Running:
    log_fd, log_name = tempfile.mkstemp(prefix="mltrack-service-", suffix=".log")
    child_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    try:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log_fd,
                                   stderr=subprocess.STDOUT, cwd=cwd, env=child_env,
                                   start_new_session=True)
    finally:
        os.close(log_fd)
    return Running(port=port, process=process, log=Path(log_name))


def _wait_ready(svc: Running, ready: Callable[[int], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        if not svc.alive():
            raise ServiceCrashed(
                f"the server exited with code {svc.process.returncode} before it answered on "
                f"{HOST}:{svc.port}; its last output:\n{svc.output()}")
        svc.remember_children()
        if ready(svc.port):
            return
        if time.monotonic() > deadline:
            raise ServiceTimeout(
                f"the server did not answer on {HOST}:{svc.port} within {timeout_s:g} s; "
                f"its last output:\n{svc.output()}")
        time.sleep(0.05)


def stop(svc: Running, grace_s: float = 3.0) -> None:
    """SIGTERM the server's session and every process it started; SIGKILL what outlives grace_s.

    Idempotent. Afterwards no process of the server is left, whatever it did with SIGTERM.
    """
    svc.remember_children()
    pgid = svc.process.pid  # start_new_session: the server leads its own process group
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGTERM)
    _signal_all(svc.family.values(), signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        svc.process.wait(timeout=grace_s)
    svc.remember_children()  # what a supervisor forked during the grace period
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
    _signal_all(svc.family.values(), signal.SIGKILL)
    svc.process.wait()
    _reap(svc.family.values())
    with contextlib.suppress(OSError):
        svc.log.unlink()


def _signal_all(processes, sig: int) -> None:
    for proc in processes:
        with contextlib.suppress(psutil.Error):
            proc.send_signal(sig)


def _gone(proc: psutil.Process) -> bool:
    try:
        return not proc.is_running() or proc.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _reap(processes, timeout_s: float = 2.0) -> None:
    """Wait until the killed processes are gone (zombies of other parents count as gone)."""
    deadline = time.monotonic() + timeout_s
    for proc in processes:
        while not _gone(proc) and time.monotonic() < deadline:
            time.sleep(0.02)


def leftovers(svc: Running) -> list[int]:
    """Pids of the server's tree that still run (after stop(): none)."""
    alive = [pid for pid, proc in svc.family.items() if not _gone(proc)]
    if svc.process.poll() is None:
        alive.append(svc.process.pid)
    return alive


def exposed_addresses(svc: Running) -> list[str]:
    """The addresses other than loopback on which the server's tree listens at its port
    ('0.0.0.0' or '[::]': every interface, reachable from other machines)."""
    root = psutil.Process(svc.process.pid)
    exposed = []
    for proc in [root, *root.children(recursive=True)]:
        try:
            sockets = proc.net_connections("inet")
        except psutil.Error:
            continue
        for s in sockets:
            if s.status != psutil.CONN_LISTEN or s.laddr.port != svc.port:
                continue
            address = ipaddress.ip_address(s.laddr.ip.split("%")[0])
            address = getattr(address, "ipv4_mapped", None) or address  # '::ffff:127.0.0.1'
            if not address.is_loopback:
                exposed.append(s.laddr.ip)
    return exposed
