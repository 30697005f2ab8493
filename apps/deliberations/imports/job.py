"""SCDL import as a background job: the received table (upload, URL, API records) is read and validated
row by row with progress, then every valid row is upserted in one transaction at the very end, so an
import that fails (bad row for the database, worker killed) leaves the register exactly as it was."""

import json
import logging
import tempfile
import threading

from django.conf import settings
from django.core.files import File
from django.db import DatabaseError, OperationalError, connections, transaction

from apps import french
from apps.jobs.errors import JobError
from apps.jobs.runner import JobRun, job_task
from apps.jobs.services import enqueue_job

from ..models import ScdlImport
from ..scdl.fields import FIELDS
from ..scdl.reading import open_scdl
from ..scdl.source import ScdlFormatError
from ..scdl.validation import ScdlValidator, validate_rows
from .attachments import FETCH_JOB
from .downloads import DownloadError, download_table
from .report import ReportBuilder
from .services import IMPORT_JOB, max_import_bytes
from .upsert import upsert_rows

logger = logging.getLogger(__name__)
VALIDATION_SHARE = 80  # percent of the progress bar given to reading + validating
NUL_REASON = "le texte contient un caractère invalide, un octet nul souvent laissé par un export défectueux"
# PostgreSQL error codes a row can cause although it passed validation, explained in French.
DATABASE_REASONS = {
    "22001": "une valeur est plus longue que ce que le registre peut enregistrer",
    "22003": "un nombre est trop grand pour le registre",
    "22021": "le texte contient un caractère invalide",
    "22P05": NUL_REASON,
    "23505": "un autre import a enregistré les mêmes identifiants en même temps",
    "23514": "une valeur est hors des limites admises par le registre",
}


def import_scdl(run: JobRun) -> dict:
    """The job: fetch (URL imports), read and validate with progress, then write everything at once."""
    with run.tenant():
        scdl_import = (
            ScdlImport.objects.select_related("authority", "created_by").filter(pk=run.params["import_id"]).first()
        )
    if scdl_import is None:
        raise JobError("L'import a été supprimé avant son traitement.")
    if scdl_import.report.get("status") == "imported":  # redelivered after the write committed: nothing to redo
        return _job_result(scdl_import.report)
    if not scdl_import.file:
        _fetch_into(run, scdl_import)
    with tempfile.TemporaryFile("w+", encoding="utf-8") as spool:  # valid rows, one JSON object per line
        builder = _validate(run, scdl_import, spool)
        return _write(run, scdl_import, builder, spool)


import_task = job_task(IMPORT_JOB, "Import SCDL")(import_scdl)


def _write(run: JobRun, scdl_import: ScdlImport, builder, spool) -> dict:
    publish = bool(run.params.get("publish", True))
    report = builder.report(strict=scdl_import.strict, publish=publish)
    if scdl_import.strict and builder.error_rows:
        report.update(status="rejected", created=0, updated=0, unchanged=0)
        report["message"] = (
            f"Mode strict : {french.count(builder.error_rows, 'ligne')} en erreur, aucune "
            "délibération n'a été importée. Corrigez le fichier puis importez-le à nouveau."
        )
        _save_report(run, scdl_import, report)
        return _job_result(report)
    try:
        with run.tenant():
            counts, touched = upsert_rows(
                scdl_import, spool, builder.valid, publish, _committed_progress(run), progress_from=VALIDATION_SHARE
            )
            report.update(counts, status="imported", message=_summary(counts, builder))
            report.update(_queue_follow_ups(scdl_import, touched, builder.with_urls))
            ScdlImport.objects.filter(pk=scdl_import.pk).update(report=report)
    except OperationalError:
        raise  # database restarting, lock or statement timeout: retried by the runner, the import is idempotent
    except DatabaseError as exc:
        logger.exception("SCDL import %s failed while writing", scdl_import.pk)
        reason = _database_reason(exc)
        message = (
            f"L'enregistrement a échoué : {reason}. Aucune délibération n'a été ajoutée ni modifiée : "
            "le registre est resté tel qu'il était avant l'import."
        )
        report.update(status="failed", message=message, created=0, updated=0, unchanged=0)
        _save_report(run, scdl_import, report)
        raise JobError(message, detail=str(exc)) from exc
    return _job_result(report)


def _committed_progress(run: JobRun):
    """Progress written from a short-lived thread, hence its own connection: visible at once, although the
    import's writes stay in their single uncommitted transaction."""

    def report(percent: int, message: str) -> None:
        def write():
            try:
                run.progress(percent, message)
            finally:
                connections.close_all()  # this thread's connection only

        thread = threading.Thread(target=write)
        thread.start()
        thread.join()

    return report


def _database_reason(exc: DatabaseError) -> str:
    if "NUL (0x00)" in str(exc):  # refused by the driver, before PostgreSQL: no SQLSTATE
        return NUL_REASON
    return DATABASE_REASONS.get(getattr(exc.__cause__, "sqlstate", None) or "", "la base de données a refusé une ligne")


def _fetch_into(run: JobRun, scdl_import: ScdlImport) -> None:
    """Download the table at the import's URL and keep it on the import (what was imported stays visible)."""
    run.progress(1, "Téléchargement du fichier…")
    try:
        downloaded, name = download_table(scdl_import.url, max_bytes=max_import_bytes())
    except DownloadError as exc:
        _save_report(run, scdl_import, {**scdl_import.report, "status": "failed", "message": exc.user_message})
        raise
    try:
        with run.tenant(), downloaded.path.open("rb") as handle:
            scdl_import.file.save(name, File(handle), save=False)
            scdl_import.filename = scdl_import.filename or name
            ScdlImport.objects.filter(pk=scdl_import.pk).update(
                file=scdl_import.file.name, filename=scdl_import.filename
            )
    finally:
        downloaded.path.unlink(missing_ok=True)


def _validate(run: JobRun, scdl_import: ScdlImport, spool) -> ReportBuilder:
    """Stream the rows through the validator; spool the valid ones to disk (memory stays flat whatever the
    file's size) as the JSON objects the write phase sends as they are."""
    path = scdl_import.file.path
    run.progress(2, "Lecture du fichier…")
    builder = ReportBuilder(siren=scdl_import.authority.siren)
    try:
        source, records = open_scdl(path, scdl_import.filename or scdl_import.file.name)
        builder.source = source
        estimate = estimate_rows(path, source.format)
        step = max(1, estimate // 100)  # about one progress update per percent
        builder.row_label = "Enregistrement" if source.format == "json" else "Ligne"
        validator = ScdlValidator(row_label=builder.row_label)
        for checked in validate_rows(records, validator):
            if builder.add(checked):
                values = {name: checked.values[name] for name in FIELDS}  # "" for empty text, else None
                builder.with_urls |= bool(values["delib_url"])
                spool.write(json.dumps(values, default=str) + "\n")
            if builder.rows % step == 0:
                percent = 2 + (VALIDATION_SHARE - 2) * min(builder.rows, estimate) // max(estimate, 1)
                run.progress(percent, f"{french.count(builder.rows, 'ligne', 'vérifiée')}")
    except ScdlFormatError as exc:
        _save_report(run, scdl_import, {**scdl_import.report, "status": "failed", "message": exc.user_message})
        raise JobError(exc.user_message, detail=str(exc)) from exc
    if builder.rows == 0:
        message = "Le fichier ne contient aucune délibération (seulement un en-tête, ou rien)."
        _save_report(
            run,
            scdl_import,
            {**builder.report(strict=scdl_import.strict, publish=True), "status": "failed", "message": message},
        )
        raise JobError(message)
    return builder


def estimate_rows(path, fmt: str) -> int:
    """Rows in the file, for the progress bar only: lines of a CSV (a record spanning lines overestimates),
    or occurrences of the DELIB_ID key in JSON."""
    needle = b"\n" if fmt == "csv" else b'"delib_id"'
    count, tail = 0, b""
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            block = tail + (chunk if fmt == "csv" else chunk.lower())
            count += block.count(needle)
            tail = block[1 - len(needle) :] if len(needle) > 1 else b""  # a key cut between two chunks
    return max(count - (1 if fmt == "csv" else 0), 1)


def _queue_follow_ups(scdl_import: ScdlImport, touched: list[int], with_urls: bool) -> dict:
    """Matière suggestions + embeddings for the created and updated rows (routing decides which need a
    suggestion), and the acts' PDFs. Sent only if the import commits."""
    queued = {}
    if not touched:
        return queued
    from ..routing.job import enqueue_classification  # routing loads numpy and the classifier: only when needed

    try:
        with transaction.atomic():  # a savepoint, so that a failure here leaves the import's transaction usable
            job = enqueue_classification(
                authority=scdl_import.authority, deliberation_ids=touched, created_by=scdl_import.created_by
            )
    except Exception:  # the register is imported all the same; suggestions can be asked for later
        logger.exception("Could not queue the classification of SCDL import %s", scdl_import.pk)
        queued["notice"] = (
            "Les suggestions de matière n'ont pas pu être lancées : demandez-les depuis la page "
            "« Classement par matière »."
        )
    else:
        if job is not None:
            queued["classification_job"] = job.pk
    if settings.DELIB_FETCH_ATTACHMENTS and with_urls:
        job = enqueue_job(
            authority=scdl_import.authority,
            kind=FETCH_JOB,
            created_by=scdl_import.created_by,
            params={"import_id": scdl_import.pk},
        )
        queued["attachments_job"] = job.pk
    return queued


def _summary(counts: dict, builder: ReportBuilder) -> str:
    parts = [
        french.count(counts["created"], "délibération", "ajoutée"),
        f"{french.count(counts['updated'], 'mise')} à jour",
        french.count(counts["unchanged"], "inchangée"),
    ]
    message = "Import terminé : " + ", ".join(parts) + "."
    if builder.error_rows:
        message += f" {french.count(builder.error_rows, 'ligne', 'refusée')} : voir le rapport."
    return message


def _save_report(run: JobRun, scdl_import: ScdlImport, report: dict) -> None:
    with run.tenant():
        ScdlImport.objects.filter(pk=scdl_import.pk).update(report=report)


def _job_result(report: dict) -> dict:
    keys = ("rows", "valid", "invalid", "created", "updated", "unchanged", "warnings", "status")
    return {**{key: report.get(key) for key in keys}, "message": report.get("message", "")[:480]}
