"""Run one function in N spawned processes (the ranks of a torch.distributed job) and
collect what each returns — the launcher of the distributed-training graders.

Each rank imports the learner's solution from its folder and calls a rank body named
"module:function" (`body(rank, world_size, port, solution, payload)`), which must return
plain Python data: tensors sent through a multiprocessing queue are shared-memory handles
that vanish when the sending process exits. Every exit path stops the processes: a rank
that fails or hangs never outlives the check that started it.
"""

from __future__ import annotations

import importlib
import importlib.util
import queue as queue_module
import socket
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import torch.multiprocessing as mp


class RankFailed(AssertionError):
    """A rank raised (its traceback's last lines are in the message) or never finished."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _load_solution(folder: str, name: str):
    if folder not in sys.path:
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(name, Path(folder) / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _rank_main(rank: int, world_size: int, port: int, body: str, folder: str, module: str,
               payload: Any, results) -> None:
    try:
        import torch

        torch.set_num_threads(1)
        mod_name, _, fn_name = body.partition(":")
        fn = getattr(importlib.import_module(mod_name), fn_name)
        solution = _load_solution(folder, module)
        results.put(("ready", rank, None))  # imports done: the hang timer starts for all
        out = fn(rank, world_size, port, solution, payload)
        results.put(("ok", rank, out))
    except NotImplementedError as exc:
        results.put(("todo", rank, str(exc)))
    except BaseException as exc:  # noqa: BLE001  (reported to the grader, whatever it is)
        tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
        results.put(("error", rank, "".join(tb[-4:]).strip()))


def run(body: str, world_size: int, folder: str | Path, payload: Any = None, *,
        module: str = "solution", timeout_s: float = 60.0) -> list[Any]:
    """What `body` returned on each rank, in rank order. Raises NotImplementedError when a
    rank hit the starter's TODO, RankFailed when one raised or the job ran past timeout_s.

    The timeout counts from the moment every rank has imported torch and the solution (a
    busy machine can take a minute for that alone), so only a hang uses it up; the imports
    get timeout_s of their own."""
    # spawn, not fork: the grader's process has torch's thread pools running, and a forked
    # child can inherit a lock some thread held (a forkserver that preloads torch hung here)
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    port = free_port()
    procs = [ctx.Process(target=_rank_main, daemon=True,
                         args=(r, world_size, port, body, str(Path(folder).resolve()), module,
                               payload, results))
             for r in range(world_size)]
    got: dict[int, Any] = {}
    ready: set[int] = set()
    try:
        for p in procs:
            p.start()
        deadline = time.monotonic() + timeout_s
        while len(got) < world_size:
            try:
                status, rank, value = results.get(timeout=0.2)
            except queue_module.Empty:
                if time.monotonic() > deadline:
                    if len(ready) < world_size:
                        raise RankFailed(
                            f"rank(s) {sorted(set(range(world_size)) - ready)} did not finish "
                            f"importing torch and the solution within {timeout_s:g} s") from None
                    raise RankFailed(
                        f"the {world_size} ranks did not finish within {timeout_s:g} s (done: "
                        f"{sorted(got) or 'none'}): is a rank waiting in a collective or a "
                        "recv that the other rank never reaches?") from None
                dead = [r for r, p in enumerate(procs)
                        if r not in got and not p.is_alive() and p.exitcode not in (None, 0)]
                if dead:
                    code = procs[dead[0]].exitcode
                    raise RankFailed(f"rank {dead[0]} died (exit code {code}) without "
                                     "reporting a result") from None
                continue
            if status == "ready":
                ready.add(rank)
                if len(ready) == world_size:
                    deadline = time.monotonic() + timeout_s
                continue
            if status == "todo":
                raise NotImplementedError(value)
            if status == "error":
                raise RankFailed(f"rank {rank} raised:\n{value}")
            got[rank] = value
        for p in procs:
            p.join(timeout=10)
        return [got[r] for r in range(world_size)]
    finally:
        started = [p for p in procs if p.pid is not None]
        for p in started:
            if p.is_alive():
                p.terminate()
        for p in started:
            p.join(timeout=5)
            if p.is_alive():
                p.kill()
                p.join(timeout=5)
        results.close()
