"""Day 71: sparse tensors — COO and CSR by hand, and sparse × dense products."""

import torch


def coo_from_dense(A: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """COO of a 2-D tensor: (indices int64 (2, nnz), values (nnz,) of A's dtype), the
    non-zeros in row-major order."""
    # TODO: where are the non-zeros, and what are they?
    raise NotImplementedError("coo_from_dense")


def csr_from_coo(indices: torch.Tensor, values: torch.Tensor,
                 shape: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """CSR (crow int64 (rows + 1,), col int64 (nnz,), values (nnz,)) of a COO matrix whose
    entries come in any order (no duplicates)."""
    # TODO: sort the entries row-major, count them per row, crow = [0, running total]
    raise NotImplementedError("csr_from_coo")


def csr_matmul(crow: torch.Tensor, col: torch.Tensor, values: torch.Tensor,
               shape: tuple[int, int], B: torch.Tensor) -> torch.Tensor:
    """Dense A @ B for a CSR matrix A of `shape` and a dense 2-D B; B's dtype.
    Raises ValueError when the shapes do not fit."""
    # TODO: touch only the stored non-zeros, without a Python loop over rows
    raise NotImplementedError("csr_matmul")


def coo_matmul(indices: torch.Tensor, values: torch.Tensor, shape: tuple[int, int],
               B: torch.Tensor) -> torch.Tensor:
    """Dense A @ B for a COO matrix A of `shape`; B's dtype. Raises ValueError when the
    shapes do not fit."""
    # TODO
    raise NotImplementedError("coo_matmul")
