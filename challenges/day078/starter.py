"""Day 78: profile GNN inference end to end with torch.profiler (and Nsight Systems on a GPU)."""


def profile_inference(model, x, adj, trace_path, runs: int = 5, warmup: int = 2,
                      top: int = 5) -> list[dict]:
    """Profile `runs` forward passes (after `warmup` unprofiled ones), write a chrome trace to
    trace_path, return the `top` aten:: ops by self CPU time as
    [{"name": ..., "self_cpu_us": ..., "calls": ...}, ...], largest first."""
    # TODO: eval mode, no gradients; warm up outside the profiler
    # TODO: torch.profiler.profile (CPU, plus CUDA when x is on a GPU); each profiled pass
    #       inside record_function("gnn_inference")
    # TODO: export the chrome trace; build the table from the profile's key_averages()
    raise NotImplementedError("profile_inference")


def nvtx_inference(model, x, adj, runs: int = 5) -> None:
    """Run `runs` inferences on the GPU, each inside an NVTX range named "gnn_inference"."""
    # TODO: torch.cuda.nvtx.range_push / range_pop around each pass (synchronise inside it)
    raise NotImplementedError("nvtx_inference")
