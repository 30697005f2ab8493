"""SCDL import at scale, through the real job: a generated ~50 MB CSV of realistic deliberations (unique
ids, a few per cent of invalid rows), then a second file that fails halfway through the write.

    .venv/bin/python bench/scdl_import/run.py            # ~50 MB
    .venv/bin/python bench/scdl_import/run.py --mb 5     # quicker

Prints rows, rows/s, total time, peak RSS, progress updates (written by the job, and seen by a poller
reading the job's row every 0.2 s from another connection, as the page does), the report's counts, then
re-imports the same file (all unchanged), and shows that the failed import left the register exactly as it was.
"""

import argparse
import csv
import datetime as dt
import json
import os
import random
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.common import SHARED_DATA, authority, setup_django

HEADER = [
    "COLL_NOM",
    "COLL_SIRET",
    "DELIB_ID",
    "DELIB_DATE",
    "DELIB_MATIERE_CODE",
    "DELIB_MATIERE_NOM",
    "DELIB_OBJET",
    "BUDGET_ANNEE",
    "BUDGET_NOM",
    "PREF_ID",
    "PREF_DATE",
    "VOTE_EFFECTIF",
    "VOTE_REEL",
    "VOTE_POUR",
    "VOTE_CONTRE",
    "VOTE_ABSTENTION",
    "DELIB_URL",
]
PLACES = [
    "rue Jean Jaurès",
    "quartier de la Gare",
    "ZAC des Prés",
    "école Jules Ferry",
    "salle polyvalente",
    "parc des Gayeulles",
    "centre-bourg",
    "lotissement Les Chênes",
    "piscine municipale",
    "médiathèque",
]
BUDGETS = ["Budget principal", "Budget annexe eau", "Budget annexe assainissement", "Budget annexe transports"]
INVALID_EVERY = 33  # about 3 % of rows carry one real-world defect


def real_objets() -> list[str]:
    """Objects of real deliberations (Rennes, Saint-Étienne), one line each."""
    rennes = json.loads((SHARED_DATA / "scdl" / "deliberations-ville-de-rennes-extrait-152.json").read_text())
    objets = [r["delib_objet"] for r in rennes]
    with (SHARED_DATA / "scdl" / "deliberations-saint-etienne-metropole-2022.csv").open(newline="") as handle:
        objets += [r["DELIB_OBJET"] for r in csv.DictReader(handle)]
    return [" ".join(o.split()) for o in objets]


def matieres() -> list[tuple[str, str]]:
    from apps.deliberations import nomenclature

    return [(m.code, nomenclature.label_path(m.code)) for m in nomenclature.all_matieres() if m.level == 2]


def row(n: int, prefix: str, objets, codes, rng: random.Random) -> list[str]:
    year = 2015 + n % 10
    day = dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(350))
    code, label = codes[n % len(codes)]
    effectif = rng.choice([15, 19, 23, 27, 33, 43, 49, 55, 69])
    reel = effectif - rng.randrange(0, 6)
    contre, abstention = rng.randrange(0, 4), rng.randrange(0, 3)
    pour = reel - contre - abstention
    budget = rng.random() < 0.4
    values = [
        "Commune de Rennes",
        "21350238800019",
        f"{prefix}{year}_{n:07d}",
        day.isoformat(),
        code,
        label,
        f"{objets[n % len(objets)]} - {PLACES[n % len(PLACES)]} ({n})",
        str(year) if budget else "",
        rng.choice(BUDGETS) if budget else "",
        "PREF035",
        (day + dt.timedelta(days=9)).isoformat(),
        str(effectif),
        str(reel),
        str(pour),
        str(contre),
        str(abstention),
        f"https://data.exemple.fr/deliberations/{year}/{n:07d}.pdf",
    ]
    if n % INVALID_EVERY == 0:  # one defect among those real files show
        defect = (n // INVALID_EVERY) % 4
        if defect == 0:
            values[12] = str(reel + 2)  # votes that do not add up
        elif defect == 1:
            values[3] = day.strftime("%d/%m/%Y")  # a French date
        elif defect == 2:
            values[4] = "7.99"  # not an @ctes code
        else:
            values[1] = "21350238800018"  # SIRET with a wrong key
    return values


def generate(path: Path, target_bytes: int, prefix: str, *, nul_at_half: bool = False) -> int:
    rng, objets, codes = random.Random(5), real_objets(), matieres()
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        n, poisoned = 0, not nul_at_half
        while handle.tell() < target_bytes:
            n += 1
            values = row(n, prefix, objets, codes, rng)
            if not poisoned and handle.tell() >= target_bytes // 2 and n % INVALID_EVERY:
                # A NUL byte halfway: it passes reading and validation, PostgreSQL refuses it.
                values[6] = values[6].replace(" - ", " -\x00 ", 1)
                poisoned = True
            writer.writerow(values)
    return n


class Poller(threading.Thread):
    """Reads the job's row like the page's htmx polling does, from its own database connection."""

    def __init__(self, authority_id: int):
        super().__init__(daemon=True)
        self.authority_id, self.job_id, self.seen, self.stop = authority_id, None, [], threading.Event()

    def run(self):
        from django.db import connection

        from apps.jobs.models import Job
        from apps.tenants.context import tenant_context

        while not self.stop.wait(0.2):
            if self.job_id is None:
                continue
            with tenant_context(self.authority_id):
                state = Job.objects.filter(pk=self.job_id).values_list("progress", "message").first()
            if state and (not self.seen or self.seen[-1] != state):
                self.seen.append(state)
        connection.close()


def import_file(target, path: Path, label: str) -> dict:
    from django.core.files import File

    from apps.deliberations import routing
    from apps.deliberations.imports.services import start_import
    from apps.deliberations.models import ScdlImport
    from apps.jobs import services
    from apps.jobs.models import Job
    from apps.tenants.context import tenant_context

    writes = []
    original_progress = services.report_progress

    def counting_progress(authority_id, job_id, percent, message=""):
        writes.append((time.perf_counter(), percent, message))
        original_progress(authority_id, job_id, percent, message)

    services.report_progress = counting_progress
    # Matière suggestions and embeddings are their own job (bench/routing); not part of this measure.
    classification_requests = []
    routing.enqueue_classification = lambda **kwargs: classification_requests.append(len(kwargs["deliberation_ids"]))
    poller = Poller(target.pk)
    poller.start()
    started = time.perf_counter()
    with tenant_context(target.pk), path.open("rb") as handle:  # the job runs in-process when this commits
        scdl_import = start_import(authority=target, source=ScdlImport.Source.UPLOAD, file=File(handle, name=label))
        poller.job_id = scdl_import.job_id
    elapsed = time.perf_counter() - started
    time.sleep(0.5)
    poller.stop.set()
    poller.join()
    services.report_progress = original_progress
    with tenant_context(target.pk):
        scdl_import.refresh_from_db()
        job = Job.objects.get(pk=scdl_import.job_id)
    return {
        "import": scdl_import,
        "job": job,
        "seconds": elapsed,
        "writes": writes,
        "seen": poller.seen,
        "classification": classification_requests,
    }


def register_state(target) -> tuple[int, str]:
    from django.db.models import Max

    from apps.deliberations.models import Deliberation
    from apps.tenants.context import tenant_context

    with tenant_context(target.pk):
        aggregate = Deliberation.objects.aggregate(last=Max("updated_at"))
        return Deliberation.objects.count(), str(aggregate["last"])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=50, help="size of the generated CSV (MB)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="scdl-bench-") as work:
        os.environ.setdefault("MEDIA_ROOT", str(Path(work) / "media"))  # the imported copies go with it
        return run_benchmark(Path(work), args.mb)


def run_benchmark(work: Path, mb: float) -> int:
    setup_django("registre_bench_scdl_import")
    from django.conf import settings

    settings.DELIB_FETCH_ATTACHMENTS = False  # the acts' URLs are fictitious
    settings.DEBUG = False  # as in production: DEBUG keeps every SQL statement (and its JSON payload) in memory
    target = authority(f"bench-scdl-{int(time.time())}", "Banc d'essai de l'import SCDL")
    big = work / "deliberations.csv"
    started = time.perf_counter()
    generated = generate(big, int(mb * 1024 * 1024), "D")
    print(
        f"generated: {big.stat().st_size / 1024 / 1024:.1f} MB, {generated} rows in "
        f"{time.perf_counter() - started:.1f} s"
    )
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    run = import_file(target, big, "deliberations.csv")
    report, job = run["import"].report, run["job"]
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    validated = [t for t, _, m in run["writes"] if "vérifiée" in m]
    print(f"job: {job.state} — {job.message}")
    print(f"rows: {report['rows']}; total {run['seconds']:.1f} s; {report['rows'] / run['seconds']:.0f} rows/s")
    if validated:
        print(
            f"  reading + validation: {validated[-1] - run['writes'][0][0]:.1f} s; writing (one transaction): "
            f"{run['seconds'] - (validated[-1] - run['writes'][0][0]):.1f} s"
        )
    print(f"peak RSS: {rss_peak:.0f} MB (before the import: {rss_before:.0f} MB)")
    print(
        f"progress updates: {len(run['writes'])} written by the job, {len(run['seen'])} distinct states seen "
        f"by the poller; last seen: {run['seen'][-1] if run['seen'] else None}"
    )
    print(
        "report: "
        + ", ".join(
            f"{k}={report.get(k)}"
            for k in (
                "rows",
                "valid",
                "invalid",
                "created",
                "updated",
                "unchanged",
                "errors",
                "warnings",
                "issues_truncated",
            )
        )
    )
    print(
        f"  issues kept in the report: {len(report['issues'])}; totals: "
        + "; ".join(f"{t['column']}/{t['code']}={t['count']}" for t in report["issue_totals"][:6])
    )
    print(f"  classification requested for {sum(run['classification'])} deliberations (separate job, not run)")

    again = import_file(target, big, "deliberations.csv")
    print(
        f"re-import of the same file: {again['seconds']:.1f} s — created={again['import'].report['created']}, "
        f"updated={again['import'].report['updated']}, unchanged={again['import'].report['unchanged']}"
    )

    count_before, last_before = register_state(target)
    failing = work / "deliberations-nul.csv"
    generate(failing, int(mb * 1024 * 1024), "F", nul_at_half=True)
    failed = import_file(target, failing, "deliberations-nul.csv")
    count_after, last_after = register_state(target)
    print(f"failing import: job {failed['job'].state} after {failed['seconds']:.1f} s — {failed['job'].error}")
    print(f"  last progress before the failure: {failed['writes'][-1][2]}")
    print(
        f"register: {count_before} rows before, {count_after} after; last change {last_before} → {last_after}: "
        + ("unchanged" if (count_before, last_before) == (count_after, last_after) else "CHANGED")
    )
    ok = job.state == "succeeded" and failed["job"].state == "failed" and count_before == count_after
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
