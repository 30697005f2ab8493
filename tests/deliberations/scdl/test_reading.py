"""Reading SCDL files: real files, every usual encoding and delimiter, and what must be refused."""

import codecs
import csv
import io
import json
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from apps.deliberations.scdl import formats, reading
from apps.deliberations.scdl.fields import SCHEMA_PATH
from apps.deliberations.scdl.reading import open_scdl
from apps.deliberations.scdl.source import ROW_SHAPE_KEY, ScdlFormatError
from tests.paths import SHARED_DATA

SAINT_ETIENNE = SHARED_DATA / "scdl" / "deliberations-saint-etienne-metropole-2022.csv"
RENNES = SHARED_DATA / "scdl" / "deliberations-ville-de-rennes-extrait-152.json"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SCHEMA_COLUMNS = [f["name"] for f in json.loads((SCHEMA_PATH).read_text(encoding="utf-8"))["fields"]]
HEADER = ",".join(SCHEMA_COLUMNS)
ROW = (
    'Commune de Test,21350238800019,{id},2024-03-12,7.5,Finances locales/Subventions,"Objet, été",2024,'
    "Budget principal,PREF013,2024-03-14,19,17,15,1,1,https://www.example.fr/{id}.pdf"
)


def write(tmp_path, content: bytes, name="depot.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def test_saint_etienne_rows_match_the_csv_module_and_extra_column_is_noticed():
    with SAINT_ETIENNE.open(newline="", encoding="utf-8") as handle:
        expected = list(csv.DictReader(handle))

    source, rows = open_scdl(SAINT_ETIENNE, "deliberations-saint-etienne-metropole-2022.csv")
    rows = list(rows)

    assert (source.format, source.encoding, source.delimiter) == ("csv", "utf-8", ",")
    assert source.columns[0] == "Nombre de délibération"
    assert "Colonne inconnue ignorée : « Nombre de délibération »." in source.notices
    assert len(rows) == len(expected)
    # Spreadsheet numbering: header is row 1, so record n is row n + 1 even when cells span several lines.
    assert [number for number, _ in rows] == [int(r["Nombre de délibération"]) + 1 for r in expected]
    for (_, row), original in zip(rows, expected, strict=True):
        assert row == {column: original[column] for column in SCHEMA_COLUMNS}
    assert any("\n" in row["DELIB_OBJET"] for _, row in rows)


def test_rennes_json_keeps_native_types_and_canonical_keys():
    records = json.loads(RENNES.read_text(encoding="utf-8"))

    source, rows = open_scdl(RENNES, "rennes.json")
    rows = list(rows)

    assert (source.format, source.delimiter) == ("json", None)
    assert source.columns == list(records[0])
    assert [number for number, _ in rows] == list(range(1, len(records) + 1))
    for (_, row), record in zip(rows, records, strict=True):
        assert row == {key.upper(): value for key, value in record.items()}
    assert all(isinstance(row["DELIB_MATIERE_CODE"], float) for _, row in rows)


def test_windows_1252_semicolon_file_is_detected_and_accents_survive():
    path = FIXTURES / "scdl_cp1252_semicolon.csv"
    expected = list(csv.DictReader(io.StringIO(path.read_bytes().decode("cp1252"), newline=""), delimiter=";"))

    source, rows = open_scdl(path)
    rows = list(rows)

    assert (source.encoding, source.delimiter) == ("cp1252", ";")
    assert "Fichier encodé en Windows-1252 : converti en UTF-8." in source.notices
    assert "Séparateur « ; » détecté." in source.notices
    assert [row for _, row in rows] == expected
    assert rows[0][1]["COLL_NOM"] == "Commune de Saint-Étienne-du-Grès"
    assert rows[0][1]["DELIB_OBJET"] == "Subvention à l’association « Cœur de ville » : 1 500 €"
    assert rows[1][1]["DELIB_OBJET"] == "Fête de l’été ; création d’un « marché nocturne »"


def test_utf8_bom_tab_file_with_lower_case_header():
    source, rows = open_scdl(FIXTURES / "scdl_utf8_bom_tab.tsv")
    rows = list(rows)

    assert (source.encoding, source.delimiter) == ("utf-8-sig", "\t")
    assert source.columns[0] == "coll_nom"
    assert rows[0][1]["COLL_NOM"] == "Commune de Saint-Étienne-du-Grès"
    assert rows[0][1]["DELIB_URL"] == "https://www.example.fr/actes/2024-017.pdf"


def test_latin1_file_is_converted(tmp_path):
    text = f"{HEADER}\n{ROW.format(id='A-1')}\n".replace("Commune de Test", "Communauté de l'Étang")
    source, rows = open_scdl(write(tmp_path, text.encode("latin-1")))

    assert source.encoding in ("cp1252", "iso8859_15", "latin_1")
    assert source.notices[0].startswith("Fichier encodé en ")
    assert next(rows)[1]["COLL_NOM"] == "Communauté de l'Étang"


def test_utf16_spreadsheet_export_is_read(tmp_path):
    text = f"{HEADER}\r\n{ROW.format(id='A-1')}\r\n".replace(",", "\t").replace('"Objet\t été"', "Objet été")
    source, rows = open_scdl(write(tmp_path, codecs.BOM_UTF16_LE + text.encode("utf-16-le")))

    assert (source.encoding, source.delimiter) == ("utf-16", "\t")
    assert next(rows)[1]["DELIB_OBJET"] == "Objet été"


def test_accepts_an_open_binary_file_and_leaves_it_open():
    buffer = io.BytesIO(f"{HEADER}\n{ROW.format(id='A-1')}\n".encode())
    _, rows = open_scdl(buffer, "depot.csv")

    assert [row["DELIB_ID"] for _, row in rows] == ["A-1"]
    assert not buffer.closed


def test_blank_lines_are_skipped_but_counted(tmp_path):
    text = f"{HEADER}\n{ROW.format(id='A-1')}\n\n{',' * 16}\n{ROW.format(id='A-2')}\n"
    _, rows = open_scdl(write(tmp_path, text.encode()))

    assert [(number, row["DELIB_ID"]) for number, row in rows] == [(2, "A-1"), (5, "A-2")]


def test_row_with_extra_cells_is_marked_for_the_validator(tmp_path):
    shifted = ROW.format(id="A-2").replace('"Objet, été"', "Objet, été")
    _, rows = open_scdl(write(tmp_path, f"{HEADER}\n{ROW.format(id='A-1')}\n{shifted}\n".encode()))
    rows = dict(rows)

    assert ROW_SHAPE_KEY not in rows[2]
    assert rows[3][ROW_SHAPE_KEY] == (len(SCHEMA_COLUMNS) + 1, len(SCHEMA_COLUMNS))


def test_optional_columns_may_be_absent(tmp_path):
    columns = SCHEMA_COLUMNS[:7]
    line = "Commune,21350238800019,A-1,2024-03-12,7.5,Finances locales/Subventions,Objet"
    source, rows = open_scdl(write(tmp_path, f"{','.join(columns)}\n{line}\n".encode()))

    assert any(n.startswith("Colonnes facultatives absentes") and "DELIB_URL" in n for n in source.notices)
    assert set(next(rows)[1]) == set(columns)


def test_json_wrappers_and_opendatasoft_records(tmp_path):
    record = {"coll_nom": "Commune", "delib_id": "A-1", "delib_matiere_code": 7.1}
    wrapped = write(tmp_path, json.dumps({"records": [record]}).encode(), "a.json")
    ods = write(tmp_path, json.dumps([{"datasetid": "x", "recordid": "r1", "fields": record}]).encode(), "b.json")

    for path in (wrapped, ods):
        _, rows = open_scdl(path)
        assert list(rows) == [(1, {"COLL_NOM": "Commune", "DELIB_ID": "A-1", "DELIB_MATIERE_CODE": 7.1})]


def test_json_unknown_keys_are_noticed(tmp_path):
    records = [{"coll_nom": "A", "commentaire": "x"}, {"coll_nom": "B", "origine": "y"}]
    source, rows = open_scdl(write(tmp_path, json.dumps(records).encode(), "a.json"))
    rows = list(rows)

    assert rows == [(1, {"COLL_NOM": "A"}), (2, {"COLL_NOM": "B"})]
    assert "Colonne inconnue ignorée : « commentaire »." in source.notices
    assert any("« origine »" in notice for notice in source.notices)


def _xlsx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    return buffer.getvalue()


REFUSED = {
    "empty": (b"", "est vide"),
    "blank": (b"\r\n  \n", "est vide"),
    "xlsx": (_xlsx_bytes(), "classeur (XLSX, ODS)"),
    "binary": (bytes(range(256)) * 4, "binaire"),
    "garbage text": (b"Bonjour,ceci n'est pas\nun fichier SCDL\n", "aucune colonne du schéma SCDL"),
    "html page": (b"<!DOCTYPE html><html><body>Connexion</body></html>", "page web (HTML)"),
    "json scalar list": (b"[1, 2, 3]", "liste d'objets"),
    "json empty list": (b"[]", "aucun enregistrement"),
    "json truncated": (b'[{"coll_nom": "A"}, {"coll_nom": ', "n'est pas un JSON valide"),
    "json without scdl keys": (b'[{"nom": "A"}]', "aucune clé du schéma SCDL"),
    "json object without list": (b'{"nom": "A"}', "sans liste d'enregistrements"),
}


@pytest.mark.parametrize("content,expected", REFUSED.values(), ids=REFUSED.keys())
def test_refused_with_a_french_message(tmp_path, content, expected):
    with pytest.raises(ScdlFormatError) as refused:
        _, rows = open_scdl(write(tmp_path, content), "depot.csv")
        list(rows)

    assert expected in refused.value.user_message


def test_real_pdf_is_refused():
    pdf = next((SHARED_DATA / "pdf-couthenans").glob("*.pdf"))
    with pytest.raises(ScdlFormatError, match="document PDF"):
        open_scdl(pdf, pdf.name)


def test_missing_required_columns_are_listed(tmp_path):
    header = [c for c in SCHEMA_COLUMNS if c not in ("DELIB_ID", "DELIB_DATE")]
    with pytest.raises(ScdlFormatError) as refused:
        open_scdl(write(tmp_path, (",".join(header) + "\n").encode()))

    assert "Colonnes obligatoires absentes de l'en-tête : DELIB_ID, DELIB_DATE." in refused.value.user_message


def test_duplicate_column_is_refused(tmp_path):
    with pytest.raises(ScdlFormatError, match="DELIB_ID apparaît deux fois"):
        open_scdl(write(tmp_path, f"{HEADER},delib_id\n".encode()))


def test_mixed_encodings_are_refused(tmp_path):
    content = (
        f"{HEADER}\n".encode()
        + ROW.format(id="A-1").encode("cp1252")
        + b"\n"
        + ROW.format(id="A-2").encode("utf-8")
        + b"\n"
    )
    with pytest.raises(ScdlFormatError, match="mélange deux encodages"):
        open_scdl(write(tmp_path, content))


def test_unclosed_quote_is_reported_at_its_row(tmp_path):
    broken = ROW.format(id="A-2").replace('"Objet, été"', '"Objet, été')
    content = f"{HEADER}\n{ROW.format(id='A-1')}\n{broken}\n{ROW.format(id='A-3')}\n"
    _, rows = open_scdl(write(tmp_path, content.encode()))

    assert next(rows)[1]["DELIB_ID"] == "A-1"
    with pytest.raises(ScdlFormatError, match=r"^Ligne 3 : guillemet mal placé : un guillemet ouvert"):
        next(rows)


def test_misplaced_quote_is_refused_rather_than_mangled(tmp_path):
    sloppy = ROW.format(id="A-2").replace('"Objet, été"', '"Objet" été')
    _, rows = open_scdl(write(tmp_path, f"{HEADER}\n{sloppy}\n".encode()))

    with pytest.raises(ScdlFormatError, match=r"^Ligne 2 : guillemet mal placé"):
        list(rows)


def _peak_bytes_while_reading(path) -> tuple[int, int]:
    tracemalloc.start()
    try:
        _, rows = open_scdl(path)
        count = sum(1 for _ in rows)
        return count, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.fixture
def small_chunks(monkeypatch):
    """Read 16 KB at a time, so that a few-megabyte file shows whether memory follows the file size
    (and JSON records keep straddling chunk boundaries)."""
    for module in (reading, formats):  # the encoding check and the JSON reader each read in chunks
        monkeypatch.setattr(module, "CHUNK_BYTES", 16 * 1024)


def test_large_csv_is_streamed_not_loaded(tmp_path, small_chunks):
    path = tmp_path / "large.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(HEADER + "\n")
        for number in range(20_000):
            handle.write(ROW.format(id=f"A-{number}") + "\n")
    size = path.stat().st_size

    count, peak = _peak_bytes_while_reading(path)

    assert count == 20_000
    assert size > 3_000_000
    assert peak < size / 10


def test_large_json_is_streamed_not_loaded(tmp_path, small_chunks):
    records = json.loads(RENNES.read_text(encoding="utf-8"))
    path = tmp_path / "large.json"
    path.write_text(json.dumps(records * 30, indent=1), encoding="utf-8")
    size = path.stat().st_size

    count, peak = _peak_bytes_while_reading(path)

    assert count == 30 * len(records)
    assert size > 3_000_000
    assert peak < size / 10


def test_json_item_that_is_no_object_is_reported_while_reading(tmp_path):
    _, rows = open_scdl(write(tmp_path, b'[{"coll_nom": "A"}, 5]', "a.json"))

    assert next(rows) == (1, {"COLL_NOM": "A"})
    with pytest.raises(ScdlFormatError, match="Enregistrement 2 : un objet JSON"):
        next(rows)
