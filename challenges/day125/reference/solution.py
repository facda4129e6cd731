"""Day 125 reference: the cheapest instance type that meets a latency SLO and a throughput
demand, from the demo model's throughput measured here and a dated table of instances."""

import csv
import math
import statistics
from decimal import Decimal
from pathlib import Path


def load_table(path) -> list[dict]:
    with open(Path(path), newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    return [{"name": r["name"], "provider": r["provider"], "kind": r["kind"],
             "vcpus": int(r["vcpus"]), "speed": float(r["speed"]),
             "usd_per_hour": Decimal(r["usd_per_hour"])}  # exact: costs are compared for ties
            for r in rows]


def figures(samples_s: list[float], batch: int) -> tuple[float, float]:
    ordered = sorted(samples_s)
    p99 = ordered[math.ceil(0.99 * len(ordered)) - 1]  # nearest rank
    return batch / statistics.median(ordered), p99


def size(instance: dict, per_core_rps: float, latency_s: float, demand_rps: float,
         p99_slo_s: float) -> tuple[bool, int, Decimal]:
    feasible = latency_s / instance["speed"] <= p99_slo_s
    per_instance = per_core_rps * instance["speed"] * instance["vcpus"]
    replicas = max(1, math.ceil(demand_rps / per_instance))
    return feasible, replicas, replicas * instance["usd_per_hour"]


def cheapest(table: list[dict], per_core_rps: float, latency_s: float, demand_rps: float,
             p99_slo_s: float) -> tuple[str, int, Decimal] | None:
    best = None
    for inst in table:
        feasible, replicas, cost = size(inst, per_core_rps, latency_s, demand_rps, p99_slo_s)
        if feasible:
            key = (cost, replicas, inst["name"])  # ties: fewer replicas, then the name
            best = min(best, key) if best else key
    if best is None:
        return None
    cost, replicas, name = best
    return name, replicas, cost
