"""Day 133: the final benchmark suite — one command runs every backend of the demo (its
accuracy, its agreement with the float model, its latency and throughput) and writes one
JSON table; a backend that fails is reported as failed, never crashes the run.

    python solution.py --out results.json --seed 133
"""

import argparse
import os

import numpy as np

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")  # before onnxruntime is imported
BATCHES = (1, 256)
MAX_TIME_S = 1.0


class EagerBackend:
    name = "torch-eager"

    def prepare(self, model, calib) -> None:
        raise NotImplementedError

    def predict(self, x) -> np.ndarray:
        raise NotImplementedError


class ScriptBackend:
    name = "torch-script"

    def prepare(self, model, calib) -> None:
        raise NotImplementedError

    def predict(self, x) -> np.ndarray:
        raise NotImplementedError


class OnnxBackend:
    name = "onnxruntime"

    def prepare(self, model, calib) -> None:
        raise NotImplementedError

    def predict(self, x) -> np.ndarray:
        raise NotImplementedError


# the suite runs every entry, in this order (read when run_suite runs)
BACKENDS = {"torch-eager": EagerBackend, "torch-script": ScriptBackend,
            "onnxruntime": OnnxBackend}


def run_suite(out_path, seed: int) -> dict:
    """Run every backend of BACKENDS and write the table (the spec's schema) to out_path."""
    raise NotImplementedError


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Run every backend's benchmark.")
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, required=True)
    args = parser.parse_args(argv)
    run_suite(args.out, args.seed)


if __name__ == "__main__":
    main()
