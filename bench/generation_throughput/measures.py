"""What the throughput benchmark reports: throughput against the server's capacity, the platform's added
latency per request, and how long 10,000 summaries would take at GPU capacities (an estimate)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Request:
    """One measured generation, its times in seconds since the first enqueue."""

    created: float
    started: float
    finished: float
    gateway_seconds: float  # Generation.latency_ms: the gateway's call, slot wait and retries included
    ok: bool
    attempts: int


@dataclass(frozen=True)
class GpuScenario:
    name: str
    concurrent: int  # sequences the server decodes at once (its max concurrent requests)
    first_token_seconds: float  # queueing + prefill of a ~700-token prompt
    seconds_per_token: float  # per sequence, at that batch size
    output_tokens: int = 200  # a summary of a short document

    @property
    def seconds_per_request(self) -> float:
        return self.first_token_seconds + self.output_tokens * self.seconds_per_token

    @property
    def capacity(self) -> float:
        """Requests per second when every slot is busy."""
        return self.concurrent / self.seconds_per_request

    @property
    def output_tokens_per_second(self) -> float:
        return self.capacity * self.output_tokens


# Assumptions, not measurements: see README.md. Replace with what `vllm bench serve` or TGI's
# `text-generation-benchmark` measures on your own server.
GPU_SCENARIOS = [
    GpuScenario("8B bf16, 1×H100, 64 seq. (TGI/vLLM)", 64, 0.3, 0.025),
    GpuScenario("8B bf16, 1×H100, 128 seq.", 128, 0.5, 0.035),
    GpuScenario("8B fp8, 1×H100, 256 seq.", 256, 0.8, 0.045),
    GpuScenario("70B fp8, 2×H100 (TP=2), 64 seq.", 64, 0.6, 0.050),
]
LLAMANDEMENT = (10_000, 30 * 60)  # 10,000 amendments in under 30 minutes


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


def summarise(requests: list[Request], *, server_seconds: float, capacity: float) -> dict:
    finished = sorted(r.finished for r in requests)
    wall = finished[-1]
    # Steady state: between the 10th and the 90th percentile of completions (no ramp-up, no drain).
    low, high = finished[len(finished) // 10], finished[(len(finished) * 9) // 10]
    steady = (0.8 * len(finished)) / (high - low) if high > low else float("nan")
    service = [r.finished - r.started for r in requests]
    return {
        "requests": len(requests),
        "failed": sum(not r.ok for r in requests),
        "retried": sum(r.attempts > 1 for r in requests),
        "wall_seconds": wall,
        "ideal_seconds": len(requests) / capacity,
        "throughput": len(requests) / wall,
        "ratio": len(requests) / wall / capacity,
        "steady_throughput": steady,
        "steady_ratio": steady / capacity,
        # Everything a request spends in the worker beyond the server's own time.
        "added": [s - server_seconds for s in service],
        # ...split: inside the gateway call (slot wait, HTTP client) and outside it (database, Redis, masking).
        "in_gateway": [r.gateway_seconds - server_seconds for r in requests],
        "outside_gateway": [s - r.gateway_seconds for s, r in zip(service, requests, strict=True)],
        "queue_wait": [r.started - r.created for r in requests],
    }


def ms(values: list[float], p: float) -> str:
    return f"{1000 * percentile(values, p):.0f}"


def format_report(
    s: dict,
    *,
    capacity: float,
    concurrency: int,
    latency: float,
    cpu: dict,
    fake: dict,
    enqueue_seconds: float,
    setup: str,
) -> str:
    lines = [
        f"setup: {setup}",
        f"server capacity: {concurrency} concurrent × {latency:g} s = {capacity:.1f} requests/s "
        f"(ideal for {s['requests']:,}: {s['ideal_seconds']:.1f} s)",
        f"requests: {s['requests']:,}, failed: {s['failed']}, retried: {s['retried']}, "
        f"refused by the server (429): {fake.get('refused_429', '?')}, "
        f"server's peak concurrency: {fake.get('max_seen_concurrency', '?')}/{concurrency}",
        f"enqueued in {enqueue_seconds:.1f} s; finished in {s['wall_seconds']:.1f} s",
        f"throughput: {s['throughput']:.2f} requests/s; steady state (10th-90th percentile): "
        f"{s['steady_throughput']:.2f} requests/s",
        f"ratio to capacity: {s['ratio']:.3f} (steady state {s['steady_ratio']:.3f}; target >= 0.90)",
    ]
    if fake.get("active_span_seconds"):
        busy = fake["busy_slot_seconds"] / fake["active_span_seconds"]
        lines.append(f"server's mean slots busy while active: {busy:.1f}/{concurrency} ({busy / concurrency:.3f})")
    lines += [
        "platform-added latency per request, ms (job run time − server time):",
        f"  total             p50 {ms(s['added'], 50):>5}  p95 {ms(s['added'], 95):>5}  max {ms(s['added'], 100):>5}",
        f"  in gateway call   p50 {ms(s['in_gateway'], 50):>5}  p95 {ms(s['in_gateway'], 95):>5}  "
        f"max {ms(s['in_gateway'], 100):>5}   (slot wait, HTTP client, retries)",
        f"  outside the call  p50 {ms(s['outside_gateway'], 50):>5}  p95 {ms(s['outside_gateway'], 95):>5}  "
        f"max {ms(s['outside_gateway'], 100):>5}   (database, Redis, masking, prompt)",
        f"queue wait (job created → started), s: p50 {percentile(s['queue_wait'], 50):.1f}  "
        f"p95 {percentile(s['queue_wait'], 95):.1f}  max {percentile(s['queue_wait'], 100):.1f} "
        f"(the backlog of {s['requests']:,} jobs, served in order)",
    ]
    if cpu:
        mine = ["workers", "fake", "redis", "enqueuer"] + (["postgres"] if "postgres" in cpu else [])
        parts = ", ".join(f"{name} {cpu[name]:.0f} s" for name in mine)
        lines += [
            f"CPU: machine {cpu['machine_busy']:.0f} s busy of {cpu['machine_total']:.0f} s "
            f"({100 * cpu['machine_busy'] / cpu['machine_total']:.0f} % of {cpu['cores']} cores); {parts}; "
            f"other processes {cpu['rest']:.0f} s" + ("" if "postgres" in cpu else " (PostgreSQL included)"),
            "CPU per request, ms: " + ", ".join(f"{name} {1000 * cpu[name] / s['requests']:.1f}" for name in mine),
        ]
    return "\n".join(lines)


def platform_ceiling(cpu: dict, requests: int, workers: int) -> tuple[float, float, float]:
    """(platform CPU seconds per request, worker CPU seconds per request, requests/s this machine can serve):
    the cores shared by everything, and each worker process held to one core by the GIL."""
    platform = sum(cpu.get(name, 0.0) for name in ("workers", "postgres", "redis", "enqueuer")) / requests
    worker = cpu["workers"] / requests
    return platform, worker, min(cpu["cores"] / platform, workers / worker)


def format_estimates(ratio: float, *, cpu: dict, requests: int, workers: int, documents: int = 10_000) -> str:
    platform, worker, ceiling = platform_ceiling(cpu, requests, workers)
    target_n, target_s = LLAMANDEMENT
    lines = [
        f"ESTIMATE (not measured): {documents:,} summaries at GPU capacities.",
        "  capacity = concurrent / (first token + output tokens × s/token)",
        f"  at ratio: N / (capacity × {ratio:.2f}), the share of capacity measured here",
        f"  CPU-bound: N / min(capacity, {ceiling:.1f} req/s), the most this machine's {cpu['cores']} cores serve "
        f"with {workers} worker process(es)",
        f"    (platform CPU {1000 * platform:.0f} ms/request: workers, PostgreSQL, Redis, enqueuing; "
        f"one worker process {1000 * worker:.0f} ms, at most {1 / worker:.1f} req/s under the GIL)",
        f"  {'scenario':<38} {'s/req':>6} {'tok/s':>6} {'req/s':>6} {'ideal':>7} {'at ratio':>9} {'CPU-bound':>10} "
        f"{'cores':>6}",
    ]
    for g in GPU_SCENARIOS:
        ideal = documents / g.capacity
        lines.append(
            f"  {g.name:<38} {g.seconds_per_request:>6.1f} {g.output_tokens_per_second:>6.0f} "
            f"{g.capacity:>6.1f} {_duration(ideal):>7} {_duration(ideal / ratio):>9} "
            f"{_duration(documents / min(g.capacity, ceiling)):>10} {g.capacity * platform:>6.1f}"
        )
    lines.append(
        f"  cores: the platform's CPU at that capacity. LLaMandement: {target_n:,} in under "
        f"{target_s // 60} min = {target_n / target_s:.1f} requests/s sustained."
    )
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}m{secs:02d}s"
