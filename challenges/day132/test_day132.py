"""Day 132 grader: a reproducible experiment. The learner's loader is probed in this process
with a dataset whose items report their own random draws (same seed after other draws,
another seed, a second epoch, the two workers); the experiment runs here twice (seeds 4 and
3, the global generators first set to something else) and as the learner's command, at
the same time in its own process (seed 3), which records the modules it imported. The
numbers must be identical bit for bit across the two seed-3 runs and differ for seed 4;
the saved weights must give the reported accuracy and hash; the environment record must be
what this environment really is (read here with platform, torch, numpy and
importlib.metadata); the lock file must pin, at its installed version, every distribution
the command's process had imported."""

import hashlib
import importlib.metadata as metadata
import json
import math
import os
import platform
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import Dataset, RandomSampler, get_worker_info

import graders
from graders import forbid
from graders.data.digits_cnn import DigitsMLP, load_digits_images

torch.set_num_threads(1)
SEED, OTHER_SEED = 3, 4
SCRAMBLE = 12345  # the global generators are set to this before each run in this process
RUN_TIMEOUT_S = 60
HIDDEN, STEPS, MIN_ACCURACY, WORKERS = 64, 5 * 22, 0.80, 2
ENV_KEYS = ("python", "torch", "numpy", "seed", "threads", "deterministic",
            "cudnn_deterministic", "cudnn_benchmark", "num_workers")
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)$")
# runs `python solution.py --seed 3 --out DIR` and notes the top-level modules it loaded
# (before the interpreter's exit handlers, which may import more); it first imports
# markupsafe (torch's jinja2 needs it), a distribution spelled `MarkupSafe`: the lock must
# keep that spelling and still sort it by its normalised name
WRAPPER = """import json, runpy, sys
try:
    import markupsafe  # noqa: F401
except ImportError:
    pass
path = sys.argv[1]
sys.argv = ["solution.py"] + sys.argv[2:]
sys.path.insert(0, "")
try:
    runpy.run_path("solution.py", run_name="__main__")
finally:
    with open(path, "w") as f:
        json.dump(sorted({m.split(".")[0] for m in list(sys.modules)}), f)
"""


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# ---- the loader, probed in this process ----------------------------------------------------

class Probe(Dataset):
    """Item i: (i, the worker's id, a torch draw, a numpy draw, a `random` draw)."""

    def __len__(self) -> int:
        return 24

    def __getitem__(self, i: int) -> torch.Tensor:
        info = get_worker_info()
        return torch.tensor([i, -1 if info is None else info.id, torch.rand(()).item(),
                             np.random.rand(), random.random()], dtype=torch.float64)


def epochs_of(solution, seed: int, scramble: int, epochs: int = 1) -> list[torch.Tensor]:
    """Every item the learner's loader yields, per epoch, with the global generators first
    set to `scramble`."""
    random.seed(scramble)
    np.random.seed(scramble)
    torch.manual_seed(scramble)
    loader = solution.make_loader(Probe(), seed, batch_size=4, num_workers=WORKERS)
    try:
        return [torch.cat(list(loader)) for _ in range(epochs)]
    finally:
        del loader  # persistent workers stop with it


@pytest.fixture(scope="module")
def probed(solution) -> dict:
    loader = solution.make_loader(Probe(), SEED, batch_size=4, num_workers=WORKERS)
    shape = {"batch_size": loader.batch_size, "num_workers": loader.num_workers,
             "random": isinstance(loader.sampler, RandomSampler)}
    del loader
    first = epochs_of(solution, SEED, SCRAMBLE, epochs=2)
    return {"shape": shape, "first": first, "again": epochs_of(solution, SEED, SCRAMBLE + 1)[0],
            "other": epochs_of(solution, OTHER_SEED, SCRAMBLE)[0]}


def test_make_loader_builds_what_it_was_asked(probed):
    shape = probed["shape"]
    assert shape["batch_size"] == 4 and shape["num_workers"] == WORKERS, (
        f"make_loader(dataset, seed, batch_size=4, num_workers={WORKERS}) built a DataLoader "
        f"with batch_size={shape['batch_size']} and num_workers={shape['num_workers']}")
    assert shape["random"], "make_loader must shuffle (shuffle=True: a RandomSampler)"
    items = probed["first"][0]
    order = items[:, 0].long().tolist()
    assert sorted(order) == list(range(24)), (
        f"one epoch of make_loader over 24 items yielded the indices {order}: each once")
    assert order != list(range(24)), "make_loader yielded the items in order: shuffle them"
    assert set(items[:, 1].long().tolist()) == set(range(WORKERS)), (
        f"the items were loaded by the workers {sorted(set(items[:, 1].long().tolist()))}: "
        f"with num_workers={WORKERS}, load them in {WORKERS} worker processes")


def test_the_same_seed_gives_the_same_stream(probed):
    first, again = probed["first"][0], probed["again"]
    if torch.equal(first, again):
        return
    what = ("order" if not torch.equal(first[:, 0], again[:, 0]) else
            "random draws inside the workers")
    pytest.fail(f"two loaders from make_loader(dataset, {SEED}, ...) gave a different {what} "
                "after the global generators had been set to something else in between: "
                "seed the loader's own torch.Generator with the seed (DataLoader(..., "
                "generator=torch.Generator().manual_seed(seed))) — the shuffle and every "
                "worker's seed come from it", pytrace=False)


def test_another_seed_or_epoch_gives_another_order(probed):
    first, second = probed["first"]
    assert not torch.equal(first[:, 0], probed["other"][:, 0]), (
        f"make_loader with seeds {SEED} and {OTHER_SEED} shuffled identically: the seed "
        "is ignored")
    assert not torch.equal(first[:, 0], second[:, 0]), (
        "the loader's second epoch repeats the first one's order: one generator, made once, "
        "must shuffle every epoch")


@pytest.mark.parametrize("column,source", [(2, "torch"), (3, "numpy"), (4, "random")])
def test_the_workers_draw_different_numbers(probed, column, source):
    items = probed["first"][0]
    by_worker = [sorted(items[items[:, 1] == w, column].tolist()) for w in range(WORKERS)]
    shared = set(by_worker[0]) & set(by_worker[1])
    assert not shared, (
        f"the {WORKERS} workers drew the same {source} numbers ({len(shared)} of "
        f"{len(by_worker[0])}): each worker's {source} generator must be seeded from its own "
        "seed — torch.initial_seed() inside worker_init_fn — not from a fixed seed")


# ---- the experiment, here ----------------------------------------------------------------

def run_here(solution, seed: int, out: Path) -> dict:
    """run_experiment(seed, out) after other random draws, with deterministic algorithms off
    and torch.set_num_threads watched (also where the solution imported it by name; this
    process stays on one thread, so a solution that forgets it is not slowed down)."""
    random.seed(SCRAMBLE)
    np.random.seed(SCRAMBLE)
    torch.manual_seed(SCRAMBLE)
    torch.use_deterministic_algorithms(False)
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = False, True
    real_set, calls = torch.set_num_threads, []

    def watched_set(n):
        calls.append(n)
        real_set(n)

    aliases = [k for k, v in vars(solution).items() if v is real_set]
    torch.set_num_threads = watched_set
    for k in aliases:
        setattr(solution, k, watched_set)
    try:
        results = solution.run_experiment(seed, str(out))
        flags = {"threads": calls[-1] if calls else None,
                 "deterministic": torch.are_deterministic_algorithms_enabled(),
                 "warn_only": torch.is_deterministic_algorithms_warn_only_enabled(),
                 "cudnn": (torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark),
                 # the recipe draws nothing from these here: they stay where the seed put them
                 "random": random.random() == random.Random(seed).random(),
                 "numpy": np.random.rand() == np.random.RandomState(seed).rand()}
    finally:
        torch.set_num_threads = real_set
        for k in aliases:
            setattr(solution, k, real_set)
        torch.use_deterministic_algorithms(False)
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = False, False
        real_set(1)
    return {"returned": results, "flags": flags, "out": out}


@pytest.fixture(scope="module")
def here(solution, solution_dir, launched, tmp_path_factory) -> dict:
    forbid.assert_not_used(solution_dir, ["torch.optim"],
                           why="write the SGD update by hand, as the spec's recipe does")
    root = tmp_path_factory.mktemp("here")
    try:
        # a folder whose parent does not exist yet: run_experiment creates both
        return {seed: run_here(solution, seed, root / f"seed{seed}" / "run")
                for seed in (OTHER_SEED, SEED)}
    except BaseException:
        abandon(launched)  # it fails anyway: do not wait for the command
        raise


def read_results(out: Path, what: str) -> dict:
    path = out / "results.json"
    try:
        results = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        pytest.fail(f"{what} wrote no readable results.json in its folder ({exc})",
                    pytrace=False)
    if not isinstance(results, dict):
        pytest.fail(f"{what}: results.json must hold a JSON object", pytrace=False)
    return results


def well_formed(results: dict, seed: int, what: str) -> dict:
    missing = [k for k in ("seed", "losses", "accuracy", "weights_sha256", "env")
               if k not in results]
    assert not missing, f"{what}: the results lack the key(s) {missing}"
    assert results["seed"] == seed, f"{what}: results['seed'] is {results['seed']!r}, not {seed}"
    losses = results["losses"]
    ok = isinstance(losses, list) and all(isinstance(v, float) for v in losses)
    assert ok, f"{what}: results['losses'] must be a list of floats (loss.item() per step)"
    assert len(losses) == STEPS, (
        f"{what}: {len(losses)} losses; the recipe takes {STEPS} steps (5 epochs of 22 "
        "batches), one loss per step")
    assert all(math.isfinite(v) for v in losses), f"{what}: a loss is not finite"
    acc = results["accuracy"]
    assert isinstance(acc, float), f"{what}: results['accuracy'] must be a float"
    digest = results["weights_sha256"]
    assert isinstance(digest, str) and re.fullmatch(r"[0-9a-f]{64}", digest), (
        f"{what}: results['weights_sha256'] must be 64 lowercase hex digits, got {digest!r}")
    assert isinstance(results["env"], dict), f"{what}: results['env'] must be a dict"
    return results


def test_the_experiment_sets_its_flags(here):
    for seed, run in here.items():
        flags = run["flags"]
        assert flags["deterministic"] and not flags["warn_only"], (
            f"after run_experiment({seed}, ...) deterministic algorithms are "
            f"{'only warned about' if flags['deterministic'] else 'off'}: call "
            "torch.use_deterministic_algorithms(True) (and leave it on)")
        assert flags["threads"] == 1, (
            f"run_experiment({seed}, ...) "
            + ("never called torch.set_num_threads" if flags["threads"] is None else
               f"last called torch.set_num_threads({flags['threads']})")
            + ": call torch.set_num_threads(1) (every figure on one thread)")
        unseeded = [k for k in ("random", "numpy") if not flags[k]]
        assert not unseeded, (
            f"after run_experiment({seed}, ...) the global {' and '.join(unseeded)} "
            "generator(s) are not where seeding them with the seed leaves them: call "
            "random.seed(seed) and np.random.seed(seed)")
        assert flags["cudnn"] == (True, False), (
            f"after run_experiment({seed}, ...) torch.backends.cudnn.deterministic and "
            f".benchmark are {flags['cudnn']}: set them to True and False (and leave them so)")


def test_run_experiment_returns_and_writes_the_results(here):
    for seed, run in here.items():
        what = f"run_experiment({seed}, out)"
        written = read_results(run["out"], what)
        well_formed(written, seed, what)
        returned = run["returned"]
        assert isinstance(returned, dict) and json.loads(json.dumps(returned)) == written, (
            f"{what} must return the same dict it wrote to results.json")


def check_weights(out: Path, results: dict, what: str) -> None:
    path = out / "model.pt"
    assert path.is_file(), f"{what} wrote no model.pt (torch.save(model.state_dict(), ...))"
    model = DigitsMLP(HIDDEN)
    try:
        model.load_state_dict(torch.load(path, weights_only=True))
    except Exception as exc:  # noqa: BLE001 — any failure to load is the verdict
        pytest.fail(f"{what}: model.pt is not the state_dict of DigitsMLP({HIDDEN}) ({exc})",
                    pytrace=False)
    digest = hashlib.sha256(b"".join(t.detach().contiguous().numpy().tobytes()
                                     for t in model.state_dict().values())).hexdigest()
    assert results["weights_sha256"] == digest, (
        f"{what}: weights_sha256 is {results['weights_sha256']}, but the spec's hash of "
        f"model.pt's tensors is {digest}")
    data = load_digits_images()
    with torch.inference_mode():
        acc = (model.eval()(data.x_test).argmax(1) == data.y_test).double().mean().item()
    assert abs(results["accuracy"] - acc) <= 1e-12, (
        f"{what}: accuracy is {results['accuracy']!r}; model.pt scores {acc!r} on the 450 "
        "test digits")
    assert acc >= MIN_ACCURACY, (
        f"{what}: the trained model scores {acc:.3f} on the test digits: the recipe reaches "
        f"{MIN_ACCURACY} or more")


def test_the_saved_weights_give_the_reported_figures(here):
    for seed, run in here.items():
        what = f"run_experiment({seed}, out)"
        check_weights(run["out"], well_formed(read_results(run["out"], what), seed, what), what)


def test_another_seed_gives_other_numbers(here):
    a = well_formed(read_results(here[SEED]["out"], "seed 3"), SEED, f"run_experiment({SEED})")
    b = well_formed(read_results(here[OTHER_SEED]["out"], "seed 4"), OTHER_SEED,
                    f"run_experiment({OTHER_SEED})")
    assert a["losses"] != b["losses"] and a["weights_sha256"] != b["weights_sha256"], (
        f"run_experiment with seeds {SEED} and {OTHER_SEED} gave the same "
        f"{'losses' if a['losses'] == b['losses'] else 'weights'}: the experiment ignores "
        "its seed")


# ---- the command, in its own process (started before the runs here, to overlap them) ------

@pytest.fixture(scope="module")
def launched(solution_dir, tmp_path_factory):
    """`python solution.py --seed 3 --out DIR` started in its own session; killed at the end
    of the grade if it is still running."""
    root_dir = tmp_path_factory.mktemp("command")
    root = str(Path(graders.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [root, os.environ.get("PYTHONPATH")])), "PYTHONWARNINGS": "ignore",
           "OMP_NUM_THREADS": "1"}  # one thread even where the solution forgets to set it
    log = (root_dir / "command.log").open("wb")
    cmd = [sys.executable, "-c", WRAPPER, str(root_dir / "modules.json"),
           "--seed", str(SEED), "--out", str(root_dir / "out")]
    proc = subprocess.Popen(cmd, cwd=solution_dir, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield {"proc": proc, "log": log, "dir": root_dir, "deadline":
               time.monotonic() + RUN_TIMEOUT_S}
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        log.close()


def abandon(launched) -> None:
    launched["abandoned"] = True
    if launched["proc"].poll() is None:
        os.killpg(launched["proc"].pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def run(launched) -> dict:
    """The command's exit code, its folder, the modules it had loaded and its output's end."""
    if launched.get("abandoned"):
        pytest.fail("the command was stopped unawaited: run_experiment already failed in the "
                    "grader's process (see that check)", pytrace=False)
    proc, root_dir = launched["proc"], launched["dir"]
    try:
        code = proc.wait(timeout=max(0.1, launched["deadline"] - time.monotonic()))
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        code = None
    launched["log"].flush()
    modules_file = root_dir / "modules.json"
    modules = json.loads(modules_file.read_text()) if modules_file.is_file() else []
    return {"code": code, "out": root_dir / "out", "modules": modules,
            "tail": (root_dir / "command.log").read_text(errors="replace")[-1500:]}


def command_results(run) -> dict:
    what = f"`python solution.py --seed {SEED} --out DIR`"
    if run["code"] is None:
        pytest.fail(f"{what} did not finish within {RUN_TIMEOUT_S} s", pytrace=False)
    if run["code"] != 0:
        pytest.fail(f"{what} exited with code {run['code']}; its output ends:\n{run['tail']}",
                    pytrace=False)
    return well_formed(read_results(run["out"], what), SEED, what)


def test_the_command_writes_its_results(run):
    check_weights(run["out"], command_results(run), "the command")


def test_two_processes_give_identical_numbers(run, here):
    theirs = command_results(run)
    mine = well_formed(read_results(here[SEED]["out"], "here"), SEED, "here")
    differ = [k for k in ("losses", "accuracy", "weights_sha256") if theirs[k] != mine[k]]
    if differ:
        step = next((i for i, (x, y) in enumerate(zip(theirs["losses"], mine["losses"],
                                                       strict=True)) if x != y), None)
        at = f" (the losses first differ at step {step})" if step is not None else ""
        pytest.fail(f"seed {SEED} gave other {', '.join(differ)} in the grader's process "
                    f"(after other random draws) than in the command's{at}: the numbers must "
                    "be identical bit for bit — seed random, numpy and torch with the seed, "
                    "the loader's generator too, and draw nothing from an unseeded source",
                    pytrace=False)


def test_the_environment_record_is_true(run):
    env = command_results(run)["env"]
    want = {"python": platform.python_version(), "torch": str(torch.__version__),
            "numpy": np.__version__, "seed": SEED, "threads": 1, "deterministic": True,
            "cudnn_deterministic": True, "cudnn_benchmark": False, "num_workers": WORKERS}
    missing = [k for k in ENV_KEYS if k not in env]
    assert not missing, f"results['env'] lacks the key(s) {missing}"
    wrong = [f"{k}: {env[k]!r}, not {v!r}" for k, v in want.items()
             if env[k] != v or type(env[k]) is not type(v)]
    assert not wrong, (
        "results['env'] does not describe the run (read each value from the running "
        f"environment, after setting the flags): {'; '.join(wrong)}")


def test_the_lock_file_pins_what_the_experiment_imported(run):
    command_results(run)
    path = run["out"] / "requirements.lock"
    assert path.is_file(), "the command wrote no requirements.lock in its --out folder"
    pins, seen = {}, []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        m = PIN.match(line)
        assert m, f"requirements.lock line {n} is {line!r}, not `Name==version`"
        name, version = m.groups()
        assert canonical(name) not in pins, f"requirements.lock lists {name} twice"
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            pytest.fail(f"requirements.lock pins {name}, which is not installed here",
                        pytrace=False)
        installed, spelled = dist.version, dist.metadata["Name"]
        assert name == spelled, (
            f"requirements.lock pins {name}: write the name as the distribution's metadata "
            f"spells it, {spelled}")
        assert version == installed, (
            f"requirements.lock pins {name}=={version}, but {installed} is installed (read "
            "versions with importlib.metadata.version)")
        pins[canonical(name)] = version
        seen.append(canonical(name))
    assert seen == sorted(seen), (
        "requirements.lock must be sorted by name (lowercase, runs of -, _ and . as -)")
    owners = metadata.packages_distributions()
    needed = sorted({canonical(d) for m in run["modules"] for d in owners.get(m, [])})
    missing = [d for d in needed if d not in pins]
    assert not missing, (
        f"requirements.lock lacks {', '.join(missing)}: the command's process had imported "
        "modules of these distributions (every distribution that owns a module in "
        "sys.modules, by importlib.metadata.packages_distributions(), written last)")
