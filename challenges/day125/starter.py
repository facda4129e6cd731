"""Day 125: the cheapest instance type that meets a p99 latency SLO and a throughput demand,
from the demo model's throughput measured here and a dated table of instances."""

from decimal import Decimal


def load_table(path) -> list[dict]:
    """data/instances.csv as dicts: name, provider, kind (str), vcpus (int), speed (float),
    usd_per_hour (Decimal)."""
    # TODO: skip the '#' comment lines, read the header, convert each column's type
    raise NotImplementedError("load_table")


def figures(samples_s: list[float], batch: int) -> tuple[float, float]:
    """(per_core_rps, p99_s): batch / median of the per-batch times, and their nearest-rank p99."""
    # TODO: statistics.median; the p99 is sorted(samples)[ceil(0.99 · n) - 1]
    raise NotImplementedError("figures")


def size(instance: dict, per_core_rps: float, latency_s: float, demand_rps: float,
         p99_slo_s: float) -> tuple[bool, int, Decimal]:
    """(feasible, replicas, cost) of serving the demand with this instance type."""
    # TODO: feasible when latency_s / speed <= p99_slo_s
    # TODO: replicas = max(1, ceil(demand_rps / (per_core_rps · speed · vcpus)))
    # TODO: cost = replicas · usd_per_hour (a Decimal)
    raise NotImplementedError("size")


def cheapest(table: list[dict], per_core_rps: float, latency_s: float, demand_rps: float,
             p99_slo_s: float) -> tuple[str, int, Decimal] | None:
    """(name, replicas, cost) of the cheapest feasible instance type, or None."""
    # TODO: among the feasible ones, the lowest cost; ties: fewer replicas, then the name
    raise NotImplementedError("cheapest")
