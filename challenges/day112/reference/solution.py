"""Day 112 reference: the Kubernetes HPA replica rule on recorded CPU traces, in exact
arithmetic, and the Deployment + HorizontalPodAutoscaler manifests for the same policy."""

from fractions import Fraction
from math import ceil

import yaml


def utilisation(demand_m: int, replicas: int, request_m: int) -> int:
    # the HPA's integer percent: total usage over total requests, rounded down
    return (100 * demand_m) // (replicas * request_m)


def recommend(current: int, metric: int, target: int,
              tolerance: Fraction = Fraction(1, 10)) -> int:
    ratio = Fraction(metric, target)  # exact: 110/100 is 11/10, not 1.1000000000000000888
    if abs(ratio - 1) <= tolerance:
        return current
    return ceil(current * ratio)


def simulate(trace: list[tuple[int, int]], policy: dict) -> list[int]:
    lo, hi, current = policy["min_replicas"], policy["max_replicas"], policy["initial_replicas"]
    if not 1 <= lo <= current <= hi:
        raise ValueError(f"need 1 <= min_replicas <= initial_replicas <= max_replicas, got "
                         f"{lo}, {current}, {hi}")
    history: list[tuple[int, int]] = []  # (t_s, raw recommendation)
    out = []
    for t, demand in trace:
        metric = utilisation(demand, current, policy["request_m"])
        history.append((t, recommend(current, metric, policy["target_utilisation"],
                                     policy["tolerance"])))
        # scale-down stabilisation: the highest recommendation of the last window_s seconds
        stable = max(r for when, r in history if when > t - policy["window_s"])
        current = min(max(stable, lo), hi)
        out.append(current)
    return out


def manifests(name: str, image: str, policy: dict) -> str:
    labels = {"app": name}
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {
            "replicas": policy["initial_replicas"],
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [{
                "name": name, "image": image,
                # CPU utilisation is usage over the request: the HPA needs requests set
                "resources": {"requests": {"cpu": f"{policy['request_m']}m"}},
            }]}},
        },
    }
    hpa = {
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": policy["min_replicas"], "maxReplicas": policy["max_replicas"],
            "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                "type": "Utilization", "averageUtilization": policy["target_utilisation"]}}}],
            "behavior": {"scaleDown": {"stabilizationWindowSeconds": policy["window_s"]}},
        },
    }
    return yaml.safe_dump_all([deployment, hpa], sort_keys=False)
