"""The small seeded CNN of the ONNX and TensorRT days (63, 64, 73, 74), the digits images it
reads, and the hand-built graphs of the graph-pass days (73, 98).

    from graders.data.onnx_nets import BNDigitsNet, make_net, digits_batch
    model = make_net()             # seeded weights and BatchNorm statistics, in training mode
    x = digits_batch(37)           # (37, 1, 8, 8) float32 digits images in [0, 1]

The net has what an exporter and a graph optimiser have to get right: BatchNorm layers with
non-trivial running statistics (export must use them, not batch statistics), a Dropout layer
(gone at inference), and Linear layers. Its weights are random but seeded, not trained: the
days grade conversions, whose outputs must match torch's whatever the weights are.
"""

from __future__ import annotations

import torch
from torch import nn

from graders.data.digits_cnn import load_digits_images

NET_SEED = 0


class BNDigitsNet(nn.Module):
    """conv1 (1→16, 3×3, pad 1) → bn1 → ReLU → conv2 (16→32) → bn2 → ReLU → max-pool 2 →
    flatten → fc1 (512→64) → ReLU → dropout (p 0.25) → fc2 (64→10). Input (N, 1, 8, 8)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(32)
        self.pool = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(32 * 16, 64)
        self.drop = nn.Dropout(0.25)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.bn1(self.conv1(x)))
        x = self.pool(torch.relu(self.bn2(self.conv2(x))))
        return self.fc2(self.drop(torch.relu(self.fc1(torch.flatten(x, 1)))))


def make_net(seed: int = NET_SEED) -> BNDigitsNet:
    """The net with seeded weights and seeded BatchNorm running statistics (means ±0.5,
    variances 0.5..2, affine weights 0.5..1.5), left in training mode as after training."""
    gen = torch.Generator().manual_seed(seed)
    torch_state = torch.random.get_rng_state()
    torch.manual_seed(seed)  # nn.Module initialisers draw from the global generator
    try:
        net = BNDigitsNet()
    finally:
        torch.random.set_rng_state(torch_state)
    with torch.no_grad():
        for bn in (net.bn1, net.bn2):
            c = bn.num_features
            bn.running_mean.copy_(torch.rand(c, generator=gen) - 0.5)
            bn.running_var.copy_(0.5 + 1.5 * torch.rand(c, generator=gen))
            bn.weight.copy_(0.5 + torch.rand(c, generator=gen))
            bn.bias.copy_(0.2 * torch.randn(c, generator=gen))
    return net.train()


def digits_batch(n: int, offset: int = 0) -> torch.Tensor:
    """`n` test images of the digits split from index `offset` (wrapping round), (n, 1, 8, 8)."""
    x = load_digits_images().x_test
    idx = (torch.arange(n) + offset) % len(x)
    return x[idx].contiguous()


def unfused_graph(seed: int = NET_SEED):
    """`make_net(seed)` (eval mode) written out by hand as an unoptimised ONNX graph, opset 17:
    Conv → BatchNormalization → Relu → Conv → BatchNormalization → Relu → MaxPool → Flatten →
    MatMul → Add → Relu → MatMul → Add (13 nodes; dropout is gone at inference). Input
    "input" (batch, 1, 8, 8) float32, output "logits" (batch, 10). Returns an onnx.ModelProto
    that computes what the torch net computes (within float32 rounding)."""
    from onnx import helper, numpy_helper

    net = make_net(seed).eval()
    sd = {k: v.detach().numpy() for k, v in net.state_dict().items()}
    inits = []

    def init(name, array):
        inits.append(numpy_helper.from_array(array.astype("float32"), name))
        return name

    nodes = []
    x = "input"
    for i, (conv, bn) in enumerate((("conv1", "bn1"), ("conv2", "bn2")), start=1):
        nodes.append(helper.make_node("Conv", [x, init(f"{conv}.weight", sd[f"{conv}.weight"]),
                                               init(f"{conv}.bias", sd[f"{conv}.bias"])],
                                      [f"conv{i}_out"], name=f"conv{i}", pads=[1, 1, 1, 1],
                                      kernel_shape=[3, 3]))
        nodes.append(helper.make_node(
            "BatchNormalization",
            [f"conv{i}_out"] + [init(f"{bn}.{p}", sd[f"{bn}.{p}"])
                                for p in ("weight", "bias", "running_mean", "running_var")],
            [f"bn{i}_out"], name=f"bn{i}", epsilon=net.bn1.eps))
        nodes.append(helper.make_node("Relu", [f"bn{i}_out"], [f"relu{i}_out"], name=f"relu{i}"))
        x = f"relu{i}_out"
    nodes.append(helper.make_node("MaxPool", [x], ["pool_out"], name="pool",
                                  kernel_shape=[2, 2], strides=[2, 2]))
    nodes.append(helper.make_node("Flatten", ["pool_out"], ["flat"], name="flatten", axis=1))
    x = "flat"
    for fc in ("fc1", "fc2"):
        nodes.append(helper.make_node("MatMul", [x, init(f"{fc}.weight_t", sd[f"{fc}.weight"].T)],
                                      [f"{fc}_mm"], name=f"{fc}_matmul"))
        out = "logits" if fc == "fc2" else f"{fc}_out"
        nodes.append(helper.make_node("Add", [f"{fc}_mm", init(f"{fc}.bias", sd[f"{fc}.bias"])],
                                      [out], name=f"{fc}_add"))
        if fc == "fc1":
            nodes.append(helper.make_node("Relu", [out], ["fc1_relu"], name="relu3"))
            x = "fc1_relu"
    return _model(nodes, inits, "bn_digits_net", ["batch", 1, 8, 8], [("logits", ["batch", 10])])


def _model(nodes, inits, name: str, input_shape: list, outputs: list[tuple[str, list]]):
    """An opset-17, IR-8 model of `nodes` with float input "input" and float `outputs`."""
    from onnx import TensorProto, helper  # onnx only where a grader builds these graphs

    graph = helper.make_graph(
        nodes, name, [helper.make_tensor_value_info("input", TensorProto.FLOAT, input_shape)],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, shape) for n, shape in outputs],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="graders.data.onnx_nets")
    model.ir_version = 8
    return model


def tricky_graph(seed: int = 1):
    """A small ONNX graph (opset 17) with the cases a fusion pass must get right, input
    "input" (batch, 2, 6, 6), output "out" (batch, 6):

    1. Conv without a bias → BatchNormalization (epsilon 1e-3) → Relu: foldable (the folded
       Conv gains a bias);
    2. Conv → BatchNormalization whose Conv output also feeds a residual Add: NOT foldable;
    3. Flatten → MatMul → Add(bias, matmul) with the bias as the Add's FIRST input: fusable;
    4. MatMul whose output feeds both an Add (bias) and a Relu: NOT fusable;
    5. MatMul on a rank-3 tensor (batch, 2, 4) → Add(bias): NOT fusable (Gemm is 2-D only).
    """
    import numpy as np
    from onnx import helper, numpy_helper

    rng = np.random.default_rng(seed)
    inits = []

    def init(name, *shape, low=-0.5, high=0.5):
        inits.append(numpy_helper.from_array(
            rng.uniform(low, high, shape).astype(np.float32), name))
        return name

    def bn_params(prefix, c):
        return [init(f"{prefix}.scale", c, low=0.5, high=1.5), init(f"{prefix}.bias", c),
                init(f"{prefix}.mean", c), init(f"{prefix}.var", c, low=0.5, high=2.0)]

    node = helper.make_node
    nodes = [
        node("Conv", ["input", init("convA.w", 4, 2, 3, 3)], ["a_conv"], name="convA",
             pads=[1, 1, 1, 1]),
        node("BatchNormalization", ["a_conv", *bn_params("bnA", 4)], ["a_bn"], name="bnA",
             epsilon=1e-3),
        node("Relu", ["a_bn"], ["a"], name="reluA"),
        node("Conv", ["a", init("convB.w", 4, 4, 3, 3), init("convB.b", 4)], ["b_conv"],
             name="convB", pads=[1, 1, 1, 1]),
        node("BatchNormalization", ["b_conv", *bn_params("bnB", 4)], ["b_bn"], name="bnB"),
        node("Add", ["b_conv", "b_bn"], ["b"], name="residual"),
        node("Flatten", ["b"], ["f"], name="flatten", axis=1),
        node("MatMul", ["f", init("W1", 144, 8, low=-0.1, high=0.1)], ["m1"], name="mm1"),
        node("Add", [init("b1", 8), "m1"], ["y1"], name="add1"),
        node("MatMul", ["y1", init("W2", 8, 8)], ["m2"], name="mm2"),
        node("Add", ["m2", init("b2", 8)], ["y2"], name="add2"),
        node("Relu", ["m2"], ["m2r"], name="relu_m2"),
        node("Add", ["y2", "m2r"], ["z"], name="merge"),
    ]
    inits.append(numpy_helper.from_array(np.array([0, 2, 4], dtype=np.int64), "shape3"))
    nodes += [
        node("Reshape", ["z", "shape3"], ["z3"], name="to_rank3"),
        node("MatMul", ["z3", init("W3", 4, 3)], ["m3"], name="mm3"),
        node("Add", ["m3", init("b3", 3)], ["y3"], name="add3"),
        node("Flatten", ["y3"], ["out"], name="flatten_out", axis=1),
    ]
    return _model(nodes, inits, "fusion_traps", ["batch", 2, 6, 6], [("out", ["batch", 6])])


def consumer_graph(seed: int = 2):
    """A small ONNX graph (opset 17) of pairs that look fusable but are NOT, because of who
    else reads a tensor; input "input" (batch, 3, 4, 4), three outputs:

    1. convC → bnC where convC's output `c_conv` is also a graph OUTPUT (a graph output counts
       as a consumer): NOT foldable;
    2. mmP → addPQ = Add(p, q), whose other input `q` is computed (by mmQ), not an
       initializer: neither MatMul is fusable;
    3. mmS → addS = Add(s, bS) with a bias of ONE element, not N = 5: NOT fusable;
    4. mmR → addR where mmR's output `r` is also a graph OUTPUT: NOT fusable.

    Outputs "out" (batch, 5), "c_conv" (batch, 3, 4, 4) and "r" (batch, 5).
    """
    import numpy as np
    from onnx import helper, numpy_helper

    rng = np.random.default_rng(seed)
    inits = []

    def init(name, *shape, low=-0.5, high=0.5):
        inits.append(numpy_helper.from_array(
            rng.uniform(low, high, shape).astype(np.float32), name))
        return name

    node = helper.make_node
    nodes = [
        node("Conv", ["input", init("convC.w", 3, 3, 3, 3), init("convC.b", 3)], ["c_conv"],
             name="convC", pads=[1, 1, 1, 1]),
        node("BatchNormalization", ["c_conv", init("bnC.scale", 3, low=0.5, high=1.5),
                                    init("bnC.bias", 3), init("bnC.mean", 3),
                                    init("bnC.var", 3, low=0.5, high=2.0)], ["c_bn"],
             name="bnC"),
        node("Relu", ["c_bn"], ["c"], name="reluC"),
        node("Flatten", ["c"], ["f"], name="flatten", axis=1),
        node("MatMul", ["f", init("WP", 48, 5, low=-0.2, high=0.2)], ["p"], name="mmP"),
        node("MatMul", ["f", init("WQ", 48, 5, low=-0.2, high=0.2)], ["q"], name="mmQ"),
        node("Add", ["p", "q"], ["pq"], name="addPQ"),
        node("MatMul", ["f", init("WS", 48, 5, low=-0.2, high=0.2)], ["s"], name="mmS"),
        node("Add", ["s", init("bS", 1)], ["s_out"], name="addS"),
        node("MatMul", ["f", init("WR", 48, 5, low=-0.2, high=0.2)], ["r"], name="mmR"),
        node("Add", ["r", init("bR", 5)], ["r_out"], name="addR"),
        node("Add", ["pq", "s_out"], ["u"], name="merge1"),
        node("Add", ["u", "r_out"], ["out"], name="merge2"),
    ]
    return _model(nodes, inits, "consumer_traps", ["batch", 3, 4, 4],
                  [("out", ["batch", 5]), ("c_conv", ["batch", 3, 4, 4]), ("r", ["batch", 5])])


# the nodes of folding_graph by role (day 98 grades its passes against these)
FOLDABLE_NODES = ("c_shift", "transpose_w", "sqrt_var", "c_eps", "add_eps", "reciprocal",
                  "c_neg1", "c_22", "concat_shape", "split_pair")
LIVE_NODES = ("scale_twice", "mul_scale", "add_shift", "matmul", "mul_inv", "add_half",
              "reshape", "relu")
DEAD_NODES = ("exp", "neg", "sigmoid", "c_junk", "add_junk")  # c_junk, add_junk: constant too


def folding_graph(seed: int = 3):
    """A small ONNX graph (opset 17, IR 8) for constant folding and dead-node elimination:
    23 nodes, inputs "input" (batch, 8) float32, "scale" (8,) float32 — a graph input WITH
    a default initializer, so not a constant — and "mask" (batch, 3) float32, read by no
    node; outputs "out" (batch, 2, 2) and "h" (batch, 4).

    Foldable (every input a constant): c_shift (Constant, `value`), transpose_w
    (Transpose of W), sqrt_var → add_eps (+ c_eps, Constant `value_float`) → reciprocal,
    c_neg1 (Constant `value_ints`) and c_22 (int64) → concat_shape (the int64 shape of the
    Reshape), split_pair (Split of an initializer: two outputs, only half_a is read).
    Live: scale_twice = Mul(scale, two) (not foldable: `scale` is a graph input),
    mul_scale, add_shift, matmul (→ "h"), mul_inv, add_half, reshape, relu (→ "out").
    Dead: exp → neg (a chain), sigmoid (reads the live x1), c_junk → add_junk (constant and
    dead; reads the initializer junk_bias that nothing else reads). The initializer
    unused_w is read by no node.
    """
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)

    def f32(*shape, low=-1.0, high=1.0):
        return rng.uniform(low, high, shape).astype(np.float32)

    inits = [numpy_helper.from_array(a, n) for n, a in [
        ("scale", f32(8, low=0.5, high=1.5)), ("two", np.float32([2.0])),
        ("W", f32(4, 8)), ("var", f32(4, low=0.5, high=2.0)), ("pair", f32(8)),
        ("split_sizes", np.int64([4, 4])), ("junk_bias", f32(3)), ("unused_w", f32(5, 5)),
    ]]
    node = helper.make_node
    nodes = [
        node("Constant", [], ["shift"], name="c_shift",
             value=numpy_helper.from_array(f32(8), "shift")),
        node("Transpose", ["W"], ["Wt"], name="transpose_w", perm=[1, 0]),
        node("Sqrt", ["var"], ["std"], name="sqrt_var"),
        node("Constant", [], ["eps"], name="c_eps", value_float=1e-3),
        node("Add", ["std", "eps"], ["std_eps"], name="add_eps"),
        node("Reciprocal", ["std_eps"], ["inv_std"], name="reciprocal"),
        node("Constant", [], ["neg1"], name="c_neg1", value_ints=[-1]),
        node("Constant", [], ["two_two"], name="c_22",
             value=numpy_helper.from_array(np.int64([2, 2]), "two_two")),
        node("Concat", ["neg1", "two_two"], ["new_shape"], name="concat_shape", axis=0),
        node("Split", ["pair", "split_sizes"], ["half_a", "half_b"], name="split_pair", axis=0),
        node("Mul", ["scale", "two"], ["scale2"], name="scale_twice"),
        node("Mul", ["input", "scale2"], ["x1"], name="mul_scale"),
        node("Exp", ["input"], ["e"], name="exp"),
        node("Add", ["x1", "shift"], ["x2"], name="add_shift"),
        node("Sigmoid", ["x1"], ["s"], name="sigmoid"),
        node("MatMul", ["x2", "Wt"], ["h"], name="matmul"),
        node("Neg", ["e"], ["ne"], name="neg"),
        node("Mul", ["h", "inv_std"], ["hn"], name="mul_inv"),
        node("Constant", [], ["junk"], name="c_junk",
             value=numpy_helper.from_array(f32(3), "junk")),
        node("Add", ["junk", "junk_bias"], ["junk2"], name="add_junk"),
        node("Add", ["hn", "half_a"], ["h2"], name="add_half"),
        node("Reshape", ["h2", "new_shape"], ["h3"], name="reshape"),
        node("Relu", ["h3"], ["out"], name="relu"),
    ]
    graph = helper.make_graph(
        nodes, "folding_traps",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 8]),
         helper.make_tensor_value_info("scale", TensorProto.FLOAT, [8]),
         helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["batch", 3])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["batch", 2, 2]),
         helper.make_tensor_value_info("h", TensorProto.FLOAT, ["batch", 4])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="graders.data.onnx_nets")
    model.ir_version = 8
    return model


def folding_edge_graph(seed: int = 4):
    """Three edge cases of the graph passes in 4 nodes (opset 17, IR 8): inputs "input"
    (batch, 4) float32 and "gain" (4,) float32 — a graph input WITH a default initializer that
    no node reads; outputs "y" (batch, 4) and "k_sq" (4,).

    clip_max = Clip(raw, "", hi) → "clipped": its min input is omitted (an empty name), so
    its non-empty inputs are all constants and it folds; add_clipped = Add(input, clipped) →
    "y" (live, not foldable); c_k (Constant) → square_k = Mul(k, k) → "k_sq": constant, and a
    graph output — once folded, the output is an initializer, which must stay."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)

    def f32(*shape):
        return rng.uniform(-1.0, 1.0, shape).astype(np.float32)

    inits = [numpy_helper.from_array(a, n) for n, a in [
        ("raw", f32(4)), ("hi", np.array(0.25, np.float32)), ("gain", f32(4))]]
    node = helper.make_node
    nodes = [
        node("Clip", ["raw", "", "hi"], ["clipped"], name="clip_max"),
        node("Add", ["input", "clipped"], ["y"], name="add_clipped"),
        node("Constant", [], ["k"], name="c_k", value=numpy_helper.from_array(f32(4), "k")),
        node("Mul", ["k", "k"], ["k_sq"], name="square_k"),
    ]
    graph = helper.make_graph(
        nodes, "folding_edges",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 4]),
         helper.make_tensor_value_info("gain", TensorProto.FLOAT, [4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4]),
         helper.make_tensor_value_info("k_sq", TensorProto.FLOAT, [4])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="graders.data.onnx_nets")
    model.ir_version = 8
    return model
