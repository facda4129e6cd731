"""Day 112: the Kubernetes HPA replica rule on recorded CPU traces, and the Deployment +
HorizontalPodAutoscaler manifests for the same policy."""

from fractions import Fraction


def utilisation(demand_m: int, replicas: int, request_m: int) -> int:
    """CPU utilisation in integer percent: 100 · demand_m // (replicas · request_m)."""
    # TODO: total usage over total requests, as a percent rounded down
    raise NotImplementedError("utilisation")


def recommend(current: int, metric: int, target: int,
              tolerance: Fraction = Fraction(1, 10)) -> int:
    """current when |metric/target - 1| <= tolerance, else ceil(current · metric / target);
    in exact arithmetic."""
    # TODO: the tolerance band (inclusive), then the ceiling — no floats
    raise NotImplementedError("recommend")


def simulate(trace: list[tuple[int, int]], policy: dict) -> list[int]:
    """Replicas after each sync period of `trace` (rows (t_s, demand_m)) under `policy`."""
    # TODO: check 1 <= min_replicas <= initial_replicas <= max_replicas (else ValueError)
    # TODO: per row: utilisation on the current size, recommend, keep the recommendation with
    #       its time, take the highest one of the window (t - window_s, t], clamp to
    #       [min_replicas, max_replicas]; that is the new current size
    raise NotImplementedError("simulate")


def manifests(name: str, image: str, policy: dict) -> str:
    """YAML text: an apps/v1 Deployment and an autoscaling/v2 HorizontalPodAutoscaler."""
    # TODO: the Deployment: replicas, selector = template labels, one container with the
    #       image and resources.requests.cpu set (in millicores, e.g. '200m')
    # TODO: the HPA: scaleTargetRef, minReplicas, maxReplicas, a cpu Utilization metric,
    #       behavior.scaleDown.stabilizationWindowSeconds
    raise NotImplementedError("manifests")
