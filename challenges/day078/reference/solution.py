"""Day 78 reference: GNN inference profiled with torch.profiler — a chrome trace on disk and
the top operators by self time, read from the same profile."""

import torch
from torch.profiler import ProfilerActivity, profile, record_function


def profile_inference(model, x, adj, trace_path, runs: int = 5, warmup: int = 2,
                      top: int = 5) -> list[dict]:
    model.eval()
    with torch.no_grad():
        for _ in range(warmup):  # first calls allocate and pick kernels: keep them out
            model(x, adj)
        activities = [ProfilerActivity.CPU]
        if x.is_cuda:
            activities.append(ProfilerActivity.CUDA)
        with profile(activities=activities) as prof:
            for _ in range(runs):
                with record_function("gnn_inference"):  # one marked span per inference
                    model(x, adj)
                if x.is_cuda:
                    torch.cuda.synchronize()
    prof.export_chrome_trace(str(trace_path))
    ops = [e for e in prof.key_averages() if e.key.startswith("aten::")]
    ops.sort(key=lambda e: e.self_cpu_time_total, reverse=True)
    return [{"name": e.key, "self_cpu_us": float(e.self_cpu_time_total), "calls": int(e.count)}
            for e in ops[:top]]


def nvtx_inference(model, x, adj, runs: int = 5) -> None:
    model.eval()
    with torch.no_grad():
        for _ in range(runs):
            torch.cuda.nvtx.range_push("gnn_inference")  # what Nsight Systems shows by name
            model(x, adj)
            torch.cuda.synchronize()
            torch.cuda.nvtx.range_pop()
