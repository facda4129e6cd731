"""Day 71 reference: COO and CSR built by hand from a dense tensor, and sparse × dense
products that touch only the stored non-zeros."""

import torch


def coo_from_dense(A: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    indices = (A != 0).nonzero().T  # nonzero() lists positions in row-major order
    return indices.to(torch.int64), A[indices[0], indices[1]]


def csr_from_coo(indices: torch.Tensor, values: torch.Tensor,
                 shape: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    rows, cols = indices[0], indices[1]
    order = torch.argsort(rows * shape[1] + cols)  # row-major: by row, then by column
    counts = torch.bincount(rows, minlength=shape[0])
    crow = torch.zeros(shape[0] + 1, dtype=torch.int64)
    crow[1:] = torch.cumsum(counts, 0)
    return crow, cols[order].to(torch.int64), values[order]


def _check(shape: tuple[int, int], B: torch.Tensor) -> None:
    if B.dim() != 2 or B.shape[0] != shape[1]:
        raise ValueError(f"cannot multiply a {shape[0]}x{shape[1]} matrix by {tuple(B.shape)}")


def _scatter_rows(rows: torch.Tensor, cols: torch.Tensor, values: torch.Tensor, n_rows: int,
                  B: torch.Tensor) -> torch.Tensor:
    # each non-zero a_ij adds a_ij · B[j] to row i of the result
    out = torch.zeros(n_rows, B.shape[1], dtype=B.dtype)
    return out.index_add_(0, rows, values.to(B.dtype)[:, None] * B[cols])


def csr_matmul(crow: torch.Tensor, col: torch.Tensor, values: torch.Tensor,
               shape: tuple[int, int], B: torch.Tensor) -> torch.Tensor:
    _check(shape, B)
    rows = torch.repeat_interleave(torch.arange(shape[0]), crow.diff())
    return _scatter_rows(rows, col, values, shape[0], B)


def coo_matmul(indices: torch.Tensor, values: torch.Tensor, shape: tuple[int, int],
               B: torch.Tensor) -> torch.Tensor:
    _check(shape, B)
    return _scatter_rows(indices[0], indices[1], values, shape[0], B)
