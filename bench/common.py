"""Shared set-up for benchmarks: a scratch database on the embedded PostgreSQL, Django, tasks in-process."""

import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"


def setup_django(database: str, *, copy_of: str = "") -> None:
    """Point Django at `database` as the RLS-bound role, migrate it, set up.

    A missing database is created, as a copy of `copy_of` when that one exists (saves re-indexing).
    """
    sys.path.insert(0, str(ROOT))
    if not os.environ.get("DATABASE_URL"):
        from config.localstack import APP_ROLE, ensure_postgres

        pg = ensure_postgres()
        exists = "SELECT 1 FROM pg_database WHERE datname = '%s'"
        if copy_of and not pg.psql(exists % database).strip() and pg.psql(exists % copy_of).strip():
            pg.psql(f'CREATE DATABASE "{database}" TEMPLATE "{copy_of}"')
        pg = ensure_postgres(database)
        os.environ["DATABASE_URL"] = pg.url(user=APP_ROLE, database=database)
        os.environ["DATABASE_OWNER_URL"] = pg.url(user="postgres", database=database)
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:1/0")  # never used: tasks run in-process
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("MEDIA_ROOT", str(ROOT / "var" / f"media-{database}"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def authority(slug: str, name: str, **fields):
    from apps.tenants.models import Authority

    return Authority.objects.get_or_create(slug=slug, defaults={"name": name, **fields})[0]


def index_files(authority, paths, **fields) -> list:
    """Upload and index files for an authority, in-process; returns the documents."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from apps.documents.services import add_uploads
    from apps.tenants.context import tenant_context

    files = [SimpleUploadedFile(Path(p).name, Path(p).read_bytes()) for p in paths]
    with tenant_context(authority.pk):
        outcomes = add_uploads(authority=authority, files=files, **fields)
    errors = [o.error for o in outcomes if o.error]
    if errors:
        raise RuntimeError(f"upload errors: {errors}")
    return [o.document for o in outcomes]


@contextmanager
def timed(label: str, totals: dict):
    started = time.perf_counter()
    yield
    totals[label] = totals.get(label, 0.0) + time.perf_counter() - started
