"""The SCDL import job: idempotent upsert by (authority, DELIB_ID), strict mode, encodings, duplicates,
progress, and nothing already in the register lost when an import fails halfway."""

import csv
import io
import json

import pytest

from apps.deliberations.imports.services import start_import
from apps.deliberations.models import Deliberation, ScdlImport
from apps.jobs.models import Job
from apps.jobs.services import report_progress

from .support import (
    RENNES,
    corrected_saint_etienne,
    csv_bytes,
    in_tenant,
    job_of,
    latest_import,
    register,
    saint_etienne_rows,
    upload,
)

pytestmark = pytest.mark.django_db


def import_bytes(authority, data: bytes, name: str, run_import_job, **options) -> ScdlImport:
    with run_import_job(), in_tenant_block(authority):
        start_import(authority=authority, source=ScdlImport.Source.UPLOAD, file=upload(data, name), **options)
    return latest_import(authority)


def import_records(authority, records: list, run_import_job, **options) -> ScdlImport:
    with run_import_job(), in_tenant_block(authority):
        start_import(authority=authority, source=ScdlImport.Source.API, records=records, **options)
    return latest_import(authority)


def in_tenant_block(authority):
    from apps.tenants.context import tenant_context

    return tenant_context(authority.pk)


def test_reimporting_the_same_file_creates_nothing_and_changes_nothing(authority, run_import_job):
    data, fixed = corrected_saint_etienne(12)
    first = import_bytes(authority, data, "sem.csv", run_import_job)
    assert first.report["status"] == "imported", first.report
    assert (first.report["created"], first.report["updated"], first.report["unchanged"]) == (12, 0, 0)
    before = register(authority)
    assert sorted(before) == sorted(fixed)

    second = import_bytes(authority, data, "sem.csv", run_import_job)
    assert (second.report["created"], second.report["updated"], second.report["unchanged"]) == (0, 0, 12)
    assert register(authority) == before  # not even updated_at or last_import moved


def test_changing_one_row_updates_exactly_that_deliberation(authority, run_import_job):
    data, fixed = corrected_saint_etienne(12)
    import_bytes(authority, data, "sem.csv", run_import_job)
    before = register(authority)
    changed = data.decode().replace("Budget principal", "Budget annexe des transports", 1)
    if changed == data.decode():  # every fixed row had its own budget: change an object instead
        changed = data.decode().replace("ESPACE INTERGENERATIONNEL", "ESPACE INTERGÉNÉRATIONNEL", 1)
    second = import_bytes(authority, changed.encode(), "sem-v2.csv", run_import_job)
    assert (second.report["created"], second.report["updated"], second.report["unchanged"]) == (0, 1, 11)
    after = register(authority)
    moved = [delib_id for delib_id in fixed if after[delib_id] != before[delib_id]]
    assert len(moved) == 1
    assert after[moved[0]]["last_import_id"] == second.pk
    assert after[moved[0]]["updated_at"] > before[moved[0]]["updated_at"]


def test_rennes_json_records_keep_7_10_apart_from_7_1(authority, run_import_job):
    records = json.loads(RENNES.read_text(encoding="utf-8"))
    scdl_import = import_records(authority, records, run_import_job)
    report = scdl_import.report
    assert report["status"] == "imported" and report["format"] == "json"
    assert (report["rows"], report["valid"], report["created"]) == (len(records), len(records), len(records))
    stored = register(authority)
    for record in records:  # the label says which code a JSON number meant
        if record["delib_matiere_code"] == 7.1:
            expected = "7.10" if record["delib_matiere_nom"].endswith("/Divers") else "7.1"
            assert stored[record["delib_id"]]["matiere_code"] == expected, record
    assert sum(1 for r in stored.values() if r["matiere_code"] == "7.10") >= 1
    interpreted = [i for i in report["issues"] if i["code"] == "matiere-code-interpreted"]
    assert interpreted and all(i["severity"] == "warning" for i in interpreted)
    assert {r["origin"] for r in stored.values()} == {"import"} and {r["published"] for r in stored.values()} == {True}


def test_windows_1252_semicolon_csv_keeps_its_accents_and_says_so(authority, run_import_job):
    header, _ = saint_etienne_rows()
    data, fixed = corrected_saint_etienne(3)
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    for row in rows:  # Windows-1252 has no « ’ »… in fact it has; « Œ » too. Add letters a spreadsheet would
        row["DELIB_OBJET"] = row["DELIB_OBJET"].replace("INTERGENERATIONNEL", "INTERGÉNÉRATIONNEL — été, Œuvre")
    spreadsheet = csv_bytes(header, rows, delimiter=";", encoding="cp1252")
    assert b"\xc9" in spreadsheet and b"\x8c" in spreadsheet  # « É », « Œ » as single Windows-1252 bytes
    scdl_import = import_bytes(authority, spreadsheet, "export-tableur.csv", run_import_job)
    report = scdl_import.report
    assert (report["encoding"], report["delimiter"]) == ("cp1252", ";")
    assert any("Windows-1252" in notice for notice in report["notices"])
    assert any("« ; »" in notice for notice in report["notices"])
    assert report["created"] == 3
    objets = [register(authority)[delib_id]["objet"] for delib_id in fixed]
    assert any("INTERGÉNÉRATIONNEL — été, Œuvre" in objet for objet in objets)
    assert all("Ã" not in objet and "\ufffd" not in objet for objet in objets)
    assert any("’" in objet for objet in objets)  # the typographic apostrophe survives too


def test_strict_mode_with_errors_imports_nothing_and_says_so(authority, run_import_job):
    data, _ = corrected_saint_etienne(5)  # 5 valid rows, the rest of the real file invalid
    scdl_import = import_bytes(authority, data, "sem.csv", run_import_job, strict=True)
    report = scdl_import.report
    assert report["status"] == "rejected" and report["strict"] is True
    assert report["valid"] == 5 and report["invalid"] > 0
    assert "Mode strict" in report["message"] and "aucune délibération n'a été importée" in report["message"]
    assert register(authority) == {}
    assert job_of(scdl_import).state == Job.State.SUCCEEDED


def test_strict_mode_without_errors_imports_everything(authority, run_import_job):
    records = json.loads(RENNES.read_text(encoding="utf-8"))[:20]
    scdl_import = import_records(authority, records, run_import_job, strict=True)
    assert scdl_import.report["status"] == "imported" and scdl_import.report["created"] == 20


def test_a_duplicate_id_in_one_file_keeps_the_first_row_and_refuses_the_later(authority, run_import_job):
    records = json.loads(RENNES.read_text(encoding="utf-8"))[:4]
    twin = {**records[0], "delib_objet": "Une autre délibération avec le même identifiant"}
    scdl_import = import_records(authority, [*records, twin], run_import_job)
    report = scdl_import.report
    assert (report["rows"], report["valid"], report["invalid"], report["created"]) == (5, 4, 1, 4)
    duplicate = [i for i in report["issues"] if i["code"] == "duplicate-id"]
    assert [(i["row"], i["severity"], i["column"]) for i in duplicate] == [(5, "error", "DELIB_ID")]
    assert register(authority)[records[0]["delib_id"]]["objet"] == records[0]["delib_objet"]


def test_unpublished_import_and_a_later_published_one(authority, run_import_job):
    records = json.loads(RENNES.read_text(encoding="utf-8"))[:3]
    import_records(authority, records, run_import_job, publish=False)
    assert {r["published"] for r in register(authority).values()} == {False}
    second = import_records(authority, records, run_import_job, publish=True)
    assert (second.report["updated"], second.report["unchanged"]) == (3, 0)  # publishing is a change
    assert {r["published"] for r in register(authority).values()} == {True}


def test_a_failure_while_writing_leaves_the_register_intact(authority, run_import_job):
    """A real cause: PostgreSQL refuses a NUL character in text, which nothing before the write rejects. The
    bad record is an update written after the 112 new rows of the same file were inserted: all of it goes."""
    records = json.loads(RENNES.read_text(encoding="utf-8"))
    import_records(authority, records[:40], run_import_job)
    before = register(authority)
    edited = [dict(r) for r in records]
    for record in edited[:40]:
        record["delib_objet"] += " (modifié)"
    edited[30]["delib_objet"] = "Objet tronqué\u0000par un export défectueux"
    failed = import_records(authority, edited, run_import_job)
    job = job_of(failed)
    assert job.state == Job.State.FAILED
    assert job.error.startswith("L'enregistrement a échoué : le texte contient un caractère invalide, un octet nul")
    assert "Aucune délibération n'a été ajoutée ni modifiée : le registre est resté tel qu'il était" in job.error
    assert failed.report["status"] == "failed" and failed.report["rows"] == 152  # the validation report stays
    assert register(authority) == before
    assert in_tenant(authority, lambda: Deliberation.objects.count()) == 40


def test_progress_is_reported_about_every_percent_with_a_line_count(authority, run_import_job, monkeypatch):
    seen = []
    original = report_progress

    def spy(authority_id, job_id, percent, message=""):
        seen.append((job_id, percent, message))
        original(authority_id, job_id, percent, message)

    monkeypatch.setattr("apps.jobs.services.report_progress", spy)
    records = json.loads(RENNES.read_text(encoding="utf-8"))
    scdl_import = import_records(authority, records, run_import_job)
    seen = [(percent, message) for job_id, percent, message in seen if job_id == scdl_import.job_id]
    counted = [m for _, m in seen if "vérifiées" in m]
    assert len(counted) >= 50  # 152 rows, one update per 1 %
    assert "152\u202flignes vérifiées" not in counted  # grouping only from 1 000
    assert counted[-1] == "152 lignes vérifiées"  # the count reaches the file's 152 rows
    counts = [int(message.removesuffix(" lignes vérifiées")) for message in counted]
    assert counts == sorted(set(counts))  # a line count that only climbs
    percents = [p for p, _ in seen]
    assert percents == sorted(percents)


def test_the_import_is_scoped_to_its_authority(authority, other_authority, run_import_job):
    records = json.loads(RENNES.read_text(encoding="utf-8"))[:5]
    import_records(authority, records, run_import_job, publish=False)
    import_records(other_authority, records, run_import_job, publish=False)  # same ids elsewhere: no clash
    assert len(register(authority)) == len(register(other_authority)) == 5
    assert in_tenant(authority, lambda: Deliberation.objects.count()) == 5


def test_created_and_updated_rows_are_queued_for_classification_and_their_pdfs(authority, run_import_job, settings):
    settings.DELIB_FETCH_ATTACHMENTS = True
    records = json.loads(RENNES.read_text(encoding="utf-8"))[:5]
    first = import_records(authority, records, run_import_job)
    ids = sorted(in_tenant(authority, lambda: list(Deliberation.objects.values_list("pk", flat=True))))

    def queued(kind):
        return in_tenant(
            authority, lambda: list(Job.objects.filter(kind=kind).order_by("pk").values_list("params", "state"))
        )

    assert queued("deliberations.classify") == [({"ids": ids}, "pending")]
    assert first.report["classification_job"] and first.report["attachments_job"]
    assert queued("deliberations.fetch_attachments") == [({"import_id": first.pk}, "pending")]

    records[2] = {**records[2], "delib_objet": records[2]["delib_objet"] + " (rectifié)"}
    import_records(authority, records, run_import_job)
    changed = in_tenant(authority, lambda: Deliberation.objects.get(delib_id=records[2]["delib_id"]).pk)
    assert queued("deliberations.classify")[-1] == ({"ids": [changed]}, "pending")

    settings.DELIB_FETCH_ATTACHMENTS = False
    unchanged = import_records(authority, records, run_import_job)
    assert len(queued("deliberations.classify")) == 2  # nothing new to classify
    assert "classification_job" not in unchanged.report and "attachments_job" not in unchanged.report


def test_a_redelivered_import_after_its_write_committed_changes_nothing(authority, run_import_job):
    """acks_late: a worker killed between the commit and the acknowledgement gets the message again."""
    from apps.deliberations.imports.job import import_scdl
    from apps.jobs.runner import JobRun

    records = json.loads(RENNES.read_text(encoding="utf-8"))[:6]
    scdl_import = import_records(authority, records, run_import_job)
    before, report = register(authority), scdl_import.report
    run = JobRun(authority_id=authority.pk, job_id=scdl_import.job_id, params=job_of(scdl_import).params, attempt=2)
    assert import_scdl(run)["created"] == 6  # the committed outcome, not « 0 created, 6 unchanged »
    assert register(authority) == before and latest_import(authority).report == report


def test_a_file_with_errors_on_every_row_keeps_a_readable_capped_report(authority, run_import_job, member, client_for):
    """6,000 rows of the real Saint-Étienne file (each with several errors) under distinct ids."""
    header, rows = saint_etienne_rows()
    many = [{**rows[n % len(rows)], "DELIB_ID": f"SEM-{n:05d}"} for n in range(6000)]
    scdl_import = import_bytes(authority, csv_bytes(header, many), "sem-x75.csv", run_import_job)
    report = scdl_import.report
    assert (report["rows"], report["invalid"], report["created"]) == (6000, 6000, 0)
    assert report["errors"] > 5000 and report["issues_truncated"] is True
    assert len(report["issues"]) == 5000 and {i["severity"] for i in report["issues"]} == {"error"}
    totals = {(t["column"], t["code"]): t["count"] for t in report["issue_totals"]}
    assert sum(t["count"] for t in report["issue_totals"]) == report["errors"] + report["warnings"]
    assert totals[("DELIB_MATIERE_CODE", "required-error")] == 6000
    page = client_for(member(authority, role="reader")).get(f"/deliberations/imports/{scdl_import.pk}/")
    html = page.content.decode()
    assert f"Ce rapport détaille les 5000 premiers problèmes sur {report['errors'] + report['warnings']}" in html
    assert "Page 1 sur 50" in html


def test_rows_of_another_authority_are_imported_with_a_warning(authority, run_import_job):
    authority.siren = "243500139"  # Rennes Métropole, not the city whose file this is
    authority.save()
    records = json.loads(RENNES.read_text(encoding="utf-8"))[:3]
    report = import_records(authority, records, run_import_job).report
    others = [i for i in report["issues"] if i["code"] == "other-authority"]
    assert report["created"] == 3 and len(others) == 3
    assert all(i["severity"] == "warning" and "SIREN 243500139" in i["message"] for i in others)
