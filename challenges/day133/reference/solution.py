"""Day 133 reference: the final benchmark suite — one command runs every backend of the
demo (its accuracy, its agreement with the float model, its latency and throughput) and
writes one JSON table; a backend that fails is reported as failed, never crashes the run.

    python solution.py --out results.json --seed 133
"""

import argparse
import copy
import io
import json
import os
import platform
import statistics
import time

import numpy as np
import torch

from graders import bench

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")  # before onnxruntime is imported
BATCHES = (1, 256)
MAX_TIME_S = 1.0


def _as_input(x) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(x, dtype=np.float32))


class EagerBackend:
    name = "torch-eager"

    def prepare(self, model, calib) -> None:
        self.net = copy.deepcopy(model).eval()

    def predict(self, x) -> np.ndarray:
        with torch.inference_mode():
            return self.net(torch.from_numpy(_as_input(x))).numpy()


class ScriptBackend(EagerBackend):
    name = "torch-script"

    def prepare(self, model, calib) -> None:
        with torch.no_grad():
            self.net = torch.jit.freeze(torch.jit.trace(copy.deepcopy(model).eval(),
                                                        calib[:2].contiguous()))


class OnnxBackend:
    name = "onnxruntime"

    def prepare(self, model, calib) -> None:
        import onnxruntime as ort

        buf = io.BytesIO()
        torch.onnx.export(copy.deepcopy(model).eval(), (calib[:2].contiguous(),), buf,
                          input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}}, dynamo=False)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = opts.inter_op_num_threads = 1
        self.sess = ort.InferenceSession(buf.getvalue(), opts,
                                         providers=["CPUExecutionProvider"])

    def predict(self, x) -> np.ndarray:
        return self.sess.run(None, {"input": _as_input(x)})[0]


# the suite runs every entry, in this order (read when run_suite runs)
BACKENDS = {"torch-eager": EagerBackend, "torch-script": ScriptBackend,
            "onnxruntime": OnnxBackend}


def _row(backend, x) -> dict:
    m = bench.measure(backend.predict, x, timer=time.thread_time, memory=False, threads=1,
                      min_time_s=0.1, max_time_s=MAX_TIME_S)
    samples = [s * 1e3 for s in m.samples_s]
    median = statistics.median(samples)
    return {"batch": len(x), "median_ms": median, "samples_ms": samples,
            "throughput_ips": len(x) / (median / 1e3)}


def _run_one(name, factory, task, want, idx) -> dict:
    entry = {"name": name, "status": "ok", "error": None, "accuracy": None,
             "max_abs_diff": None, "rows": []}
    try:
        backend = factory()
        backend.prepare(task.model, task.calib)
        out = backend.predict(task.x_eval.numpy())
        if not isinstance(out, np.ndarray) or out.dtype != np.float32 or out.shape != want.shape:
            raise ValueError(f"predict returned {getattr(out, 'dtype', type(out).__name__)} "
                             f"{getattr(out, 'shape', '')}, not float32 {want.shape}")
        x = task.x_eval[idx].numpy()
        rows = [_row(backend, x[:batch]) for batch in BATCHES]
        entry.update(accuracy=float((out.argmax(1) == task.y_eval.numpy()).mean()),
                     max_abs_diff=float(np.abs(out - want).max()), rows=rows)
    except Exception as exc:  # a failing backend is a row of the table, not the end of it
        entry.update(status="failed", error=f"{type(exc).__name__}: {exc}", rows=[])
    return entry


def run_suite(out_path, seed: int) -> dict:
    import onnxruntime

    from graders.data.capstone2 import load_task

    torch.set_num_threads(1)
    task = load_task()
    idx = torch.randperm(len(task.x_eval), generator=torch.Generator().manual_seed(seed))
    idx = idx[:BATCHES[-1]]
    with torch.inference_mode():
        want = task.model(task.x_eval).numpy()
    results = {"seed": seed, "python": platform.python_version(), "torch": torch.__version__,
               "onnxruntime": onnxruntime.__version__, "threads": 1,
               "batches": list(BATCHES), "bench_indices": idx.tolist(),
               "backends": [_run_one(name, factory, task, want, idx)
                            for name, factory in BACKENDS.items()]}
    with open(out_path, "w", encoding="utf-8") as fh:
        json.dump(results, fh)
    return results


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Run every backend's benchmark.")
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, required=True)
    args = parser.parse_args(argv)
    run_suite(args.out, args.seed)


if __name__ == "__main__":
    main()
