"""Day 73: an ONNX graph pass of your own — Conv+BatchNormalization folding and
MatMul+Add → Gemm — checked against onnxruntime's graph optimiser."""

import os

import numpy as np  # noqa: F401  (you will want it for the folded weights)
import onnx
from onnx import helper, numpy_helper  # noqa: F401

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")  # before onnxruntime is imported


def fold_conv_bn(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy of `model` where every Conv whose only consumer is a BatchNormalization (with
    constant parameters) is replaced by one Conv with the BatchNorm folded into its weights."""
    # TODO: copy the model; find Conv → BatchNormalization pairs where the Conv output has
    #       no other consumer; fold γ, β, mean, var and the node's epsilon into W and b (a
    #       Conv without bias has b = 0); one Conv writes the BatchNorm's output tensor
    raise NotImplementedError("fold_conv_bn")


def fuse_matmul_add(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy of `model` where every MatMul of a rank-2 input by a constant 2-D matrix whose
    only consumer is an Add of a constant bias of shape (N,) is replaced by one Gemm."""
    # TODO: copy; for each MatMul with a 2-D input (shape inference tells) and an initializer
    #       matrix, whose only consumer is an Add with an initializer bias (either input of
    #       the Add), one Gemm writes the Add's output tensor
    raise NotImplementedError("fuse_matmul_add")


def optimize(model: onnx.ModelProto) -> onnx.ModelProto:
    """fold_conv_bn, then fuse_matmul_add; no initializer left that no node uses."""
    # TODO: both passes, then drop the initializers nothing reads any more
    raise NotImplementedError("optimize")


def ort_optimized(model: onnx.ModelProto, level: str, path) -> onnx.ModelProto:
    """The graph onnxruntime's own optimiser makes of `model` at level "basic" or
    "extended", written to `path` (SessionOptions.optimized_model_filepath) and loaded."""
    # TODO: ValueError for any other level; SessionOptions with the level and
    #       optimized_model_filepath; creating the session writes the file; load it back
    raise NotImplementedError("ort_optimized")
