"""Shared helpers of the SCDL import tests: real files, a loopback HTTP server, running queued jobs.
(Named test_* so it sits beside the tests; it holds no test itself.)"""

import csv
import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.core.files.uploadedfile import SimpleUploadedFile

from apps.deliberations.models import Deliberation, ScdlImport
from apps.jobs.models import Job
from apps.tenants.context import tenant_context
from tests.paths import SHARED_DATA

SAINT_ETIENNE = SHARED_DATA / "scdl" / "deliberations-saint-etienne-metropole-2022.csv"
RENNES = SHARED_DATA / "scdl" / "deliberations-ville-de-rennes-extrait-152.json"
COUTHENANS = SHARED_DATA / "pdf-couthenans"


def in_tenant(authority, fn):
    with tenant_context(authority.pk):
        return fn()


def latest_import(authority) -> ScdlImport:
    return in_tenant(authority, lambda: ScdlImport.objects.select_related("job").latest("pk"))


def register(authority) -> dict:
    """delib_id → every SCDL field and the register's own, as stored."""
    fields = [
        "delib_id",
        "objet",
        "matiere_code",
        "vote_pour",
        "published",
        "origin",
        "last_import_id",
        "updated_at",
        "delib_date",
        "coll_nom",
        "budget_nom",
    ]
    rows = in_tenant(authority, lambda: list(Deliberation.objects.values(*fields)))
    return {row["delib_id"]: row for row in rows}


def job_of(scdl_import) -> Job:
    with tenant_context(scdl_import.authority_id):
        return Job.objects.get(pk=scdl_import.job_id)


def saint_etienne_rows() -> tuple[list[str], list[dict]]:
    with SAINT_ETIENNE.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames), list(reader)


def csv_bytes(header: list[str], rows: list[dict], *, delimiter=",", encoding="utf-8") -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, delimiter=delimiter, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def corrected_saint_etienne(count: int) -> tuple[bytes, list[str]]:
    """The real Saint-Étienne file with its first `count` distinct rows made valid (an @ctes code and label,
    votes that add up): what its authority would send once told what to fix. Returns (bytes, fixed ids)."""
    header, rows = saint_etienne_rows()
    fixed, seen = [], set()
    for row in rows:
        if len(fixed) == count:
            break
        if row["DELIB_ID"] in seen or not row["VOTE_POUR"]:
            continue
        seen.add(row["DELIB_ID"])
        pour, contre, abstention = int(row["VOTE_POUR"]), int(row["VOTE_CONTRE"]), int(row["VOTE_ABSTENTION"])
        row.update(
            DELIB_MATIERE_CODE="1.1",
            DELIB_MATIERE_NOM="Commande publique/Marchés publics",
            VOTE_REEL=str(pour + contre + abstention),
            VOTE_EFFECTIF=str(max(int(row["VOTE_EFFECTIF"]), pour + contre + abstention)),
        )
        if not row["BUDGET_NOM"].strip() or not row["BUDGET_ANNEE"].strip():
            row.update(BUDGET_ANNEE="2022", BUDGET_NOM="Budget principal")
        fixed.append(row["DELIB_ID"])
    return csv_bytes(header, rows), fixed


def upload(data: bytes, name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/csv")


class LoopbackServer:
    """A real HTTP server on 127.0.0.1 serving `routes`: path → (status, headers, body bytes or a callable
    giving them, which may take its time)."""

    def __init__(self, routes: dict):
        self.routes = routes
        self.hits: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.hits.append(self.path)
                status, headers, body = server.routes.get(
                    self.path, (404, {"Content-Type": "text/plain"}, b"not found")
                )
                if callable(body):
                    body = body()
                self.send_response(status)
                for name, value in headers.items():
                    if value is not None:  # None: leave the header out (Content-Length: read until close)
                        self.send_header(name, value)
                if "Content-Length" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self):
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
