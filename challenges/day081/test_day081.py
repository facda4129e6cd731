"""Day 81 grader: the GPipe bubble formula and timetable, then one micro-batched training
step of a two-stage MLP in two spawned processes (gloo send/recv on 127.0.0.1), compared
with both stages run sequentially in one process on the whole batch."""

from fractions import Fraction

import pytest
import torch

from graders import expect
from graders.data import pipeline_task as task
from graders.data import spawn_ranks

torch.set_num_threads(1)
N_MICRO = 4
RANK_TIMEOUT_S = 120
OUT_ATOL = 1e-6
GRAD_RTOL, GRAD_ATOL = 1e-5, 1e-7


@pytest.mark.parametrize("p,m", [(2, 4), (4, 8), (1, 5), (3, 1), (8, 32)])
def test_bubble_fraction_formula(solution, p, m):
    got = solution.bubble_fraction(p, m)
    want = (p - 1) / (m + p - 1)
    assert isinstance(got, float) and abs(got - want) <= 1e-12, (
        f"bubble_fraction(p={p}, m={m}) = {got!r}; GPipe's idle share is (p−1)/(m+p−1) = "
        f"{want:.6g}: p−1 ticks of fill and drain out of m+p−1 per stage")


@pytest.mark.parametrize("p,m", [(0, 4), (2, 0)])
def test_bubble_fraction_rejects_empty_pipelines(solution, p, m):
    expect.raises(ValueError, solution.bubble_fraction, p, m, what=f"bubble_fraction({p}, {m})",
                  why="a pipeline without stages or micro-batches")


@pytest.mark.parametrize("p,m", [(2, 4), (3, 5), (4, 1), (1, 3)])
def test_gpipe_schedule_is_a_tight_valid_timetable(solution, p, m):
    table = solution.gpipe_schedule(p, m)
    what = f"gpipe_schedule(p={p}, m={m})"
    assert len(table) == m + p - 1, (
        f"{what} has {len(table)} ticks; a GPipe forward pass takes m+p−1 = {m + p - 1}")
    when: dict[tuple[int, int], int] = {}
    for t, row in enumerate(table):
        assert len(row) == p, f"{what}: tick {t} lists {len(row)} stages, expected {p}"
        for s, j in enumerate(row):
            if j is not None:
                assert (s, j) not in when, f"{what}: stage {s} runs micro-batch {j} twice"
                when[s, j] = t
    for s in range(p):
        order = [j for row in table for j in [row[s]] if j is not None]
        assert order == list(range(m)), (
            f"{what}: stage {s} runs micro-batches {order}; expected each of 0..{m - 1} once, "
            "in order")
        for j in range(m):
            if s > 0:
                assert when[s, j] > when[s - 1, j], (
                    f"{what}: stage {s} runs micro-batch {j} at tick {when[s, j]}, before stage "
                    f"{s - 1} has produced its activation (tick {when[s - 1, j]})")
    idle = Fraction(sum(row.count(None) for row in table), p * len(table))
    assert idle == Fraction(p - 1, m + p - 1), (
        f"{what}: idle slots make up {idle} of the timetable, the formula says "
        f"{Fraction(p - 1, m + p - 1)}")


@pytest.mark.parametrize("rows,n", [(8, 4), (8, 8), (8, 1)])
def test_split_micro_gives_equal_contiguous_chunks(solution, rows, n):
    t = torch.arange(rows * 2, dtype=torch.float32).reshape(rows, 2)
    parts = solution.split_micro(t, n)
    assert len(parts) == n and all(tuple(q.shape) == (rows // n, 2) for q in parts), (
        f"split_micro({rows} rows, {n}) must give {n} chunks of {rows // n} rows, got shapes "
        f"{[tuple(q.shape) for q in parts]}")
    assert torch.equal(torch.cat(parts), t), (
        f"split_micro({rows} rows, {n}): the chunks, concatenated, must be the rows in order")


@pytest.mark.parametrize("n", [3, 0])
def test_split_micro_refuses_uneven_splits(solution, n):
    expect.raises(ValueError, solution.split_micro, torch.zeros(8, 2), n,
                  what=f"split_micro(8 rows, {n})", why=f"8 rows into {n} equal micro-batches")


@pytest.fixture(scope="module")
def ranks(solution_dir):
    return spawn_ranks.run("graders.data.pipeline_task:rank_body", 2, solution_dir, N_MICRO,
                           timeout_s=RANK_TIMEOUT_S)


@pytest.fixture(scope="module")
def oracle():
    return task.sequential_step()


def test_each_stage_runs_all_forwards_then_all_backwards(ranks):
    rows = task.BATCH // N_MICRO
    want = [["F", rows]] * N_MICRO + [["B", rows]] * N_MICRO
    for rank, out in enumerate(ranks):
        got = out["events"]
        assert got == want, (
            f"stage {rank} ran {' '.join(f'{k}{n}' for k, n in got) or 'nothing'} (F/B = "
            f"forward/backward, with the rows of each); GPipe runs the {N_MICRO} micro-batches "
            f"of {rows} rows forward, then all {N_MICRO} backward")


def test_outputs_and_loss_equal_sequential_execution(ranks, oracle):
    assert ranks[0]["result"] is None, "gpipe_step must return None on rank 0"
    assert ranks[1]["result"] is not None, "gpipe_step must return (outputs, loss) on rank 1"
    out, loss = ranks[1]["result"]
    assert ranks[1]["loss_kind"] == "a 0-d tensor", (
        f"gpipe_step returned the loss as {ranks[1]['loss_kind']}; expected a scalar (0-d) "
        "tensor")
    expect.close(torch.tensor(out).numpy(), oracle["out"].numpy(),
                 what="pipeline outputs (rank 1, micro-batches concatenated)", rtol=0,
                 atol=OUT_ATOL, oracle="stage1(stage0(x)) in one process")
    expect.close(loss, oracle["loss"], what="pipeline loss", rtol=1e-6, atol=0,
                 oracle="mse_loss over the whole batch")


def test_gradients_equal_sequential_execution(ranks, oracle):
    for rank, out in enumerate(ranks):
        for i, (got, want) in enumerate(zip(out["grads"], oracle["grads"][rank], strict=True)):
            assert got is not None, (
                f"stage {rank}'s parameter {i} has no gradient: "
                + ("rank 0 must backpropagate the gradient it receives from rank 1 "
                   "(activation.backward(received_grad))" if rank == 0 else
                   "rank 1 must call backward on its micro-batch losses"))
            got = torch.tensor(got)
            if not torch.allclose(got, want, rtol=GRAD_RTOL, atol=GRAD_ATOL):
                ratio = float(got.norm() / want.norm())
                hint = (f" — they are {N_MICRO}× too large: divide each micro-batch's mean "
                        f"loss by the number of micro-batches ({N_MICRO})"
                        if abs(ratio - N_MICRO) < 1e-3 * N_MICRO else "")
                pytest.fail(f"stage {rank}, parameter {i}: the gradient accumulated over the "
                            "micro-batches differs from the full batch's (rtol "
                            f"{GRAD_RTOL:g}, atol {GRAD_ATOL:g}){hint}", pytrace=False)


def test_no_optimiser_step(ranks):
    moved = [r for r, out in enumerate(ranks) if out["weights_changed"]]
    assert not moved, (
        f"stage(s) {moved} changed their weights during gpipe_step: it computes the gradients "
        "only (forward and backward); do not call an optimiser")


def test_process_group_is_destroyed(ranks):
    left = [r for r, out in enumerate(ranks) if out["still_initialized"]]
    assert not left, (
        f"the process group is still initialised on rank(s) {left} after gpipe_step returned: "
        "call dist.destroy_process_group() (in a finally block)")
