"""The import pages: upload the real Saint-Étienne file, read the French report row by row (checked against
reasons recomputed here from the raw CSV), live progress, roles, and refusals before anything is stored."""

import csv
import re
from html.parser import HTMLParser

import pytest

from apps.deliberations.models import ScdlImport
from apps.jobs.models import Job
from apps.tenants.models import Membership

from .support import SAINT_ETIENNE, corrected_saint_etienne, in_tenant, latest_import, register, upload

pytestmark = pytest.mark.django_db
Role = Membership.Role
NEW = "/deliberations/imports/nouveau/"


@pytest.fixture
def agent(authority, member, client_for):
    return client_for(member(authority, role=Role.AGENT))


@pytest.fixture
def reader(authority, member, client_for):
    return client_for(member(authority, role=Role.READER))


class IssueTable(HTMLParser):
    """(row, column, severity, problem, value) of the « issues » table of a report page."""

    def __init__(self):
        super().__init__()
        self.rows, self.cells, self.cell, self.inside = [], None, None, False

    def handle_starttag(self, tag, attrs):
        if tag == "table" and ("class", "issues") in attrs:
            self.inside = True
        elif self.inside and tag == "tr":
            self.cells = []
        elif self.inside and tag == "td":
            self.cell = ""

    def handle_endtag(self, tag):
        if tag == "table":
            self.inside = False
        elif self.inside and tag == "td" and self.cells is not None:
            self.cells.append(" ".join(self.cell.split()))
            self.cell = None
        elif self.inside and tag == "tr" and self.cells:
            self.rows.append(tuple(self.cells))
            self.cells = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def issues_on_pages(client, url: str) -> list[tuple]:
    found, page = [], 1
    while True:
        html = client.get(f"{url}?gravite=erreurs&page={page}").content.decode()
        parser = IssueTable()
        parser.feed(html)
        found.extend(parser.rows)
        if "Page suivante" not in html:
            return found
        page += 1


def expected_errors() -> dict[int, set[tuple[str, str]]]:
    """Recomputed from the raw CSV, independently of the validator: row → {(column, rule)} for the rules this
    file breaks (required values, @ctes label form, vote sums and comparisons, repeated ids)."""
    expected, seen = {}, set()
    with SAINT_ETIENNE.open(encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            problems = set()
            for column in (
                "COLL_NOM",
                "COLL_SIRET",
                "DELIB_ID",
                "DELIB_DATE",
                "DELIB_MATIERE_CODE",
                "DELIB_MATIERE_NOM",
                "DELIB_OBJET",
            ):
                if not row[column].strip():
                    problems.add((column, "required"))
            if row["DELIB_MATIERE_NOM"].strip() and "/" not in row["DELIB_MATIERE_NOM"]:
                problems.add(("DELIB_MATIERE_NOM", "nomenclature"))
            votes = [row[c].strip() for c in ("VOTE_REEL", "VOTE_POUR", "VOTE_CONTRE", "VOTE_ABSTENTION")]
            if all(votes):
                reel, pour, contre, abstention = map(int, votes)
                if pour + contre + abstention != reel:
                    problems.add(("VOTE_REEL", "sum"))
                if pour > reel:
                    problems.add(("VOTE_REEL", "compare"))
            if row["DELIB_ID"] in seen:
                problems.add(("DELIB_ID", "duplicate"))
            seen.add(row["DELIB_ID"])
            if problems:
                expected[number] = problems
    return expected


RULE_OF_CODE = {
    "required-error": "required",
    "nomenclature-actes-value": "nomenclature",
    "sum-columns-value": "sum",
    "compare-columns-value": "compare",
    "duplicate-id": "duplicate",
}


def test_saint_etienne_upload_reports_each_invalid_row_and_why(authority, agent, run_import_job):
    with run_import_job():
        response = agent.post(NEW, {"file": upload(SAINT_ETIENNE.read_bytes(), SAINT_ETIENNE.name), "publish": "on"})
    scdl_import = latest_import(authority)
    assert response.status_code == 302 and response["Location"] == f"/deliberations/imports/{scdl_import.pk}/"
    expected = expected_errors()
    report = scdl_import.report
    assert report["rows"] == 80 and report["invalid"] == len(expected)
    assert report["valid"] == 80 - len(expected) == report["created"]
    by_row: dict[int, set] = {}
    for issue in report["issues"]:
        if issue["severity"] == "error" and issue["code"] in RULE_OF_CODE:
            by_row.setdefault(issue["row"], set()).add((issue["column"], RULE_OF_CODE[issue["code"]]))
    assert set(by_row) == set(expected)
    for row, problems in expected.items():
        assert problems <= by_row[row], (row, problems, by_row[row])

    page = agent.get(f"/deliberations/imports/{scdl_import.pk}/").content.decode()
    assert "Lignes en erreur (non importées)" in page
    assert "Colonne inconnue ignorée : « Nombre de délibération »" in page
    shown = issues_on_pages(agent, f"/deliberations/imports/{scdl_import.pk}/")
    assert len(shown) == report["errors"]  # every error, over several pages
    assert {int(cells[0]) for cells in shown} == set(expected)
    sum_rows = {int(c[0]) for c in shown if c[1] == "VOTE_REEL" and "diffère de VOTE_REEL" in c[3]}
    assert sum_rows == {row for row, problems in expected.items() if ("VOTE_REEL", "sum") in problems}
    assert all(cells[2] == "Erreur" and not cells[3].startswith("Ligne") for cells in shown)
    second_row = [c for c in shown if c[0] == "2"]
    assert ("2", "DELIB_MATIERE_CODE", "Erreur") in {c[:3] for c in second_row}


def test_the_valid_rows_of_a_corrected_file_are_imported_and_the_others_reported(authority, agent, run_import_job):
    data, fixed = corrected_saint_etienne(10)
    with run_import_job():
        agent.post(NEW, {"file": upload(data, "sem-corrige.csv"), "publish": "on"})
    scdl_import = latest_import(authority)
    assert (scdl_import.report["created"], scdl_import.report["valid"]) == (10, 10)
    assert sorted(register(authority)) == sorted(fixed)
    page = agent.get(f"/deliberations/imports/{scdl_import.pk}/").content.decode()
    assert "Import terminé : 10 délibérations ajoutées, 0 mise à jour, 0 inchangée." in page
    assert "70 lignes refusées : voir le rapport." in page
    listing = agent.get("/deliberations/imports/").content.decode()
    assert "sem-corrige.csv" in listing and "10 <small>(10 ajoutées, 0 mise à jour)</small>" in listing


def test_warnings_and_errors_can_be_shown_apart(authority, agent, run_import_job):
    with run_import_job():
        agent.post(NEW, {"file": upload(SAINT_ETIENNE.read_bytes(), SAINT_ETIENNE.name)})
    scdl_import = latest_import(authority)
    url = f"/deliberations/imports/{scdl_import.pk}/"
    warnings = IssueTable()
    warnings.feed(agent.get(f"{url}?gravite=avertissements").content.decode())
    assert all(cells[2] == "Avertissement" for cells in warnings.rows)
    assert len(warnings.rows) == min(scdl_import.report["warnings"], 100)
    everything = IssueTable()
    everything.feed(agent.get(url).content.decode())
    severities = [cells[2] for cells in everything.rows]
    assert severities == sorted(severities, key=lambda s: s != "Erreur")  # errors first


def test_the_form_offers_strict_mode_and_publishing_checked_by_default(agent):
    page = agent.get(NEW).content.decode()
    assert re.search(r'<input type="checkbox" name="publish"[^>]*checked', page)
    assert re.search(r'<input type="checkbox" name="strict"(?![^>]*checked)', page)
    assert "Mode strict : tout ou rien" in page and "Publier dans le registre public" in page
    assert "Windows-1252" in page and "JSON" in page and 'enctype="multipart/form-data"' in page


def test_unchecked_publish_imports_unpublished_rows(authority, agent, run_import_job):
    data, _ = corrected_saint_etienne(2)
    with run_import_job():
        agent.post(NEW, {"file": upload(data, "sem.csv")})  # a browser sends nothing for an unchecked box
    assert {row["published"] for row in register(authority).values()} == {False}


def test_an_upload_beyond_the_limit_is_refused_before_anything_is_stored(authority, agent, settings):
    settings.DELIB_IMPORT_MAX_BYTES = 20 * 1024
    response = agent.post(NEW, {"file": upload(SAINT_ETIENNE.read_bytes(), SAINT_ETIENNE.name)})
    assert response.status_code == 400
    assert "pèse 27 Ko : la limite est de 20 Ko par import" in response.content.decode()
    assert in_tenant(authority, lambda: (ScdlImport.objects.count(), Job.objects.count())) == (0, 0)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Déposez un fichier SCDL ou indiquez l&#x27;adresse d&#x27;un fichier."),
        ({"url": "https://exemple.fr/a.csv", "file": "both"}, "pas les deux"),
        ({"file": "spreadsheet"}, "n&#x27;est pas un fichier CSV ou JSON"),
        ({"file": "empty"}, "est vide"),
    ],
)
def test_bad_submissions_are_explained(authority, agent, data, message):
    files = {
        "both": upload(b"COLL_NOM\nx\n", "a.csv"),
        "spreadsheet": upload(b"PK\x03\x04", "registre.xlsx"),
        "empty": upload(b"", "vide.csv"),
    }
    if "file" in data:
        data = {**data, "file": files[data["file"]]}
    response = agent.post(NEW, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert in_tenant(authority, lambda: ScdlImport.objects.count()) == 0


def test_a_running_import_page_polls_and_its_partial_is_a_fragment(authority, agent, reader):
    with in_tenant_ctx(authority):
        from apps.deliberations.imports.services import start_import

        scdl_import = start_import(authority=authority, source="upload", file=upload(b"DELIB_ID\n1\n", "a.csv"))
    # The job stays pending: its message is sent only on commit, which never comes in this test.
    url = f"/deliberations/imports/{scdl_import.pk}/"
    page = reader.get(url).content.decode()
    assert 'hx-trigger="every 2s"' in page and "<progress" in page
    partial = reader.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert partial.startswith('<div id="import-report"') and "<html" not in partial
    assert 'hx-trigger="every 2s"' in reader.get("/deliberations/imports/").content.decode()


def in_tenant_ctx(authority):
    from apps.tenants.context import tenant_context

    return tenant_context(authority.pk)


def test_roles_on_the_pages(authority, other_authority, member, client_for, reader, run_import_job):
    agent = client_for(member(authority, role=Role.AGENT))
    data, _ = corrected_saint_etienne(1)
    with run_import_job():
        agent.post(NEW, {"file": upload(data, "sem.csv")})
    scdl_import = latest_import(authority)
    assert reader.get("/deliberations/imports/").status_code == 200
    assert reader.get(f"/deliberations/imports/{scdl_import.pk}/").status_code == 200
    assert reader.get(NEW).status_code == 403
    assert reader.post(NEW, {"file": upload(data, "sem.csv")}).status_code == 403
    assert "Importer un fichier" not in reader.get("/deliberations/imports/").content.decode()
    stranger = client_for(member(other_authority, role=Role.ADMINISTRATOR))
    assert stranger.get(f"/deliberations/imports/{scdl_import.pk}/").status_code == 404
    assert "sem.csv" not in stranger.get("/deliberations/imports/").content.decode()
