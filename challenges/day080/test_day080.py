"""Day 80 grader: the learner's train_ddp runs in two spawned processes (gloo on 127.0.0.1,
a port the grader picks). Every step's gradients must be the same on both ranks and equal
the full-batch gradient of one process; the final weights must equal single-process
full-batch SGD from rank 0's initial weights."""

import pytest
import torch

from graders import expect
from graders.data import ddp_task, spawn_ranks

torch.set_num_threads(1)
WORLD = 2
RANK_TIMEOUT_S = 120
GRAD_RTOL, GRAD_ATOL = 1e-4, 1e-6
WEIGHT_RTOL, WEIGHT_ATOL = 1e-4, 1e-5


@pytest.mark.parametrize("n,world_size", [(64, 2), (12, 4), (7, 1)])
def test_shard_takes_contiguous_equal_blocks(solution, n, world_size):
    x = torch.arange(n * 3, dtype=torch.float32).reshape(n, 3)
    y = torch.arange(n, dtype=torch.float32).reshape(n, 1)
    x0, y0 = x.clone(), y.clone()
    size = n // world_size
    for rank in range(world_size):
        xs, ys = solution.shard(x, y, rank, world_size)
        rows = slice(rank * size, (rank + 1) * size)
        assert tuple(xs.shape) == (size, 3) and tuple(ys.shape) == (size, 1), (
            f"shard(x of {n} rows, rank {rank}, world_size {world_size}) has shapes "
            f"{tuple(xs.shape)}, {tuple(ys.shape)}; expected ({size}, 3), ({size}, 1)")
        assert torch.equal(xs, x[rows]) and torch.equal(ys, y[rows]), (
            f"shard(rank {rank}, world_size {world_size}) of {n} rows must be rows "
            f"{rows.start}..{rows.stop - 1} (contiguous blocks, rank 0 first), got the rows "
            f"starting {xs[:, 0].div(3).int().tolist()[:4]}…")
    assert torch.equal(x, x0) and torch.equal(y, y0), "shard must not modify x or y"


def test_shard_refuses_uneven_splits(solution):
    x, y = torch.zeros(10, 3), torch.zeros(10, 1)
    expect.raises(ValueError, solution.shard, x, y, 0, 4, what="shard(10 rows, world_size 4)",
                  why="10 rows do not split evenly over 4 ranks")


@pytest.fixture(scope="module")
def ranks(solution_dir):
    return spawn_ranks.run("graders.data.ddp_task:rank_body", WORLD, solution_dir,
                           timeout_s=RANK_TIMEOUT_S)


@pytest.fixture(scope="module")
def oracle():
    model = ddp_task.make_model(seed=0)
    x, y = ddp_task.make_data()
    grads = ddp_task.train_full_batch(model, x, y)
    return {"grads": grads, "weights": [p.detach() for p in model.parameters()]}


def test_each_rank_wraps_the_model_in_ddp(ranks):
    for rank, out in enumerate(ranks):
        assert out["ddp_wraps"] == 1, (
            f"rank {rank} built {out['ddp_wraps']} DistributedDataParallel wrapper(s) around "
            "the model it was given; wrap `model` itself in DDP exactly once (DDP broadcasts "
            "rank 0's weights and averages the gradients — not a hand-written all-reduce)")


def test_each_rank_trains_on_its_own_shard(ranks):
    x, _ = ddp_task.make_data()
    size = ddp_task.N_ROWS // WORLD
    for rank, out in enumerate(ranks):
        assert out["forwards"] == ddp_task.STEPS, (
            f"rank {rank} ran the model {out['forwards']} times for {ddp_task.STEPS} steps: "
            "one forward pass per step, on the rank's whole shard")
        seen = torch.tensor(out["seen"][0])
        want = x[rank * size:(rank + 1) * size]
        assert seen.shape == want.shape and torch.equal(seen, want), (
            f"rank {rank} fed the model a batch of shape {tuple(seen.shape)}, not its shard "
            f"(rows {rank * size}..{(rank + 1) * size - 1} of x, shape {tuple(want.shape)}): "
            "each rank must train on shard(x, y, rank, world_size) only")


def test_gradients_are_equal_across_ranks(ranks):
    steps = [len(out["grads"]) for out in ranks]
    assert steps == [ddp_task.STEPS] * WORLD, (
        f"train_ddp returned {steps} steps of gradients, expected {ddp_task.STEPS} per rank")
    n_params = len(list(ddp_task.make_model(0).parameters()))
    for rank, out in enumerate(ranks):
        counts = {len(step) for step in out["grads"]}
        assert counts == {n_params}, (
            f"rank {rank} returned {sorted(counts)} gradient tensors per step; the model has "
            f"{n_params} parameters (one .grad copy each, in model.parameters() order)")
    for step in range(ddp_task.STEPS):
        pairs = zip(ranks[0]["grads"][step], ranks[1]["grads"][step], strict=True)
        for i, (a, b) in enumerate(pairs):
            a, b = torch.tensor(a), torch.tensor(b)
            if not torch.equal(a, b):
                pytest.fail(
                    f"after step {step}, parameter {i}'s gradient differs between rank 0 and "
                    f"rank 1 (max diff {float((a - b).abs().max()):.3g}): the gradients were "
                    "not all-reduced — wrap the model in DistributedDataParallel and call "
                    "backward through it", pytrace=False)


def _ratio_hint(got: torch.Tensor, want: torch.Tensor) -> str:
    ratio = float(got.norm() / want.norm())
    for factor, why in [(WORLD, "summed over the ranks, not averaged"),
                        (ddp_task.N_ROWS // WORLD, "the loss sums over the shard's rows "
                         "(reduction='sum'); the spec's loss is the mean"),
                        (ddp_task.N_ROWS, "the loss sums over rows and ranks")]:
        if abs(ratio - factor) < 1e-3 * factor:
            return f" — they are {factor}× too large: {why}"
    return (" — did every rank start from rank 0's weights? (DDP broadcasts them when it "
            "wraps the model; the grader builds rank r's model with seed r)")


def test_gradients_are_the_full_batch_gradient(ranks, oracle):
    for rank, out in enumerate(ranks):
        for step, (got_step, want_step) in enumerate(zip(out["grads"], oracle["grads"],
                                                                   strict=True)):
            for i, (got, want) in enumerate(zip(got_step, want_step, strict=True)):
                got = torch.tensor(got)
                if got.shape != want.shape or not torch.allclose(got, want, rtol=GRAD_RTOL,
                                                                 atol=GRAD_ATOL):
                    hint = _ratio_hint(got, want) if got.shape == want.shape else ""
                    pytest.fail(
                        f"rank {rank}, step {step}: parameter {i}'s gradient is not the "
                        f"gradient of the mean-squared error over the full batch of "
                        f"{ddp_task.N_ROWS} rows (rtol {GRAD_RTOL:g}, atol {GRAD_ATOL:g})"
                        f"{hint}", pytrace=False)


def test_final_weights_equal_single_process_training(ranks, oracle):
    for i, (a, b) in enumerate(zip(ranks[0]["weights"], ranks[1]["weights"], strict=True)):
        assert a == b, (
            f"after training the ranks hold different weights (parameter {i}): data-parallel "
            "replicas must stay identical — same starting weights, same averaged gradients")
    for i, (got, want) in enumerate(zip(ranks[0]["weights"], oracle["weights"], strict=True)):
        expect.close(torch.tensor(got).numpy(), want.numpy(),
                     what=f"parameter {i} after {ddp_task.STEPS} DDP steps",
                     rtol=WEIGHT_RTOL, atol=WEIGHT_ATOL,
                     oracle="single-process full-batch SGD from rank 0's initial weights")


def test_process_group_is_destroyed(ranks):
    left = [r for r, out in enumerate(ranks) if out["still_initialized"]]
    assert not left, (
        f"the process group is still initialised on rank(s) {left} after train_ddp returned: "
        "call dist.destroy_process_group() (in a finally block) before returning")
