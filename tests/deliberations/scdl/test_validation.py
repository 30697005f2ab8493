"""Validating SCDL rows: the real Saint-Étienne and Rennes files, the schema's custom checks, 7.1 vs 7.10."""

import csv
import datetime
import json
from collections import Counter

import pytest

from apps.deliberations import nomenclature
from apps.deliberations.scdl.checks import siret_is_valid
from apps.deliberations.scdl.fields import SCHEMA_PATH
from apps.deliberations.scdl.reading import open_scdl
from apps.deliberations.scdl.source import ROW_SHAPE_KEY
from apps.deliberations.scdl.validation import ScdlValidator, validate_rows
from tests.paths import SHARED_DATA

pytestmark = pytest.mark.django_db

SAINT_ETIENNE = SHARED_DATA / "scdl" / "deliberations-saint-etienne-metropole-2022.csv"
RENNES = SHARED_DATA / "scdl" / "deliberations-ville-de-rennes-extrait-152.json"
VOTES = ["VOTE_EFFECTIF", "VOTE_REEL", "VOTE_POUR", "VOTE_CONTRE", "VOTE_ABSTENTION"]
NOMENCLATURE_LEVEL1 = [
    "commande publique",
    "urbanisme",
    "domaine et patrimoine",
    "fonction publique",
    "institutions et vie politique",
    "libertes publiques et pouvoirs de police",
    "finances locales",
    "domaines de competences par themes",
    "autres domaines de competences",
]


def good_row(**changes) -> dict:
    row = {
        "COLL_NOM": "Commune de Test",
        "COLL_SIRET": "21350238800019",
        "DELIB_ID": "2024-017",
        "DELIB_DATE": "2024-03-12",
        "DELIB_MATIERE_CODE": "7.5",
        "DELIB_MATIERE_NOM": "Finances locales/Subventions",
        "DELIB_OBJET": "Subvention au comité des fêtes",
        "BUDGET_ANNEE": "2024",
        "BUDGET_NOM": "Budget principal",
        "PREF_ID": "PREF013",
        "PREF_DATE": "2024-03-14",
        "VOTE_EFFECTIF": "19",
        "VOTE_REEL": "17",
        "VOTE_POUR": "15",
        "VOTE_CONTRE": "1",
        "VOTE_ABSTENTION": "1",
        "DELIB_URL": "https://www.example.fr/a.pdf",
    }
    row.update(changes)
    return row


def errors_of(checked) -> set[tuple[str | None, str]]:
    return {(i.column, i.code) for i in checked.issues if i.severity == "error"}


def expected_saint_etienne_errors(record: dict, first_line_of_id: dict, line: int) -> set[tuple[str, str]]:
    """What is wrong with a Saint-Étienne row, recomputed from the csv module's strings."""
    expected = set()
    for column in ("DELIB_MATIERE_CODE", "DELIB_MATIERE_NOM"):
        if not record[column].strip():
            expected.add((column, "required-error"))
    name = record["DELIB_MATIERE_NOM"].strip()
    if name and ("/" not in name or name.split("/")[0].strip().lower() not in NOMENCLATURE_LEVEL1):
        expected.add(("DELIB_MATIERE_NOM", "nomenclature-actes-value"))
    if bool(record["BUDGET_ANNEE"].strip()) != bool(record["BUDGET_NOM"].strip()):
        expected.add(("BUDGET_NOM" if record["BUDGET_ANNEE"].strip() else "BUDGET_ANNEE", "cohesive-columns-value"))
    votes = {c: int(record[c]) if record[c].strip() else None for c in VOTES}
    if 0 < sum(v is not None for v in votes.values()) < len(VOTES):
        expected.add((next(c for c in VOTES if votes[c] is None), "cohesive-columns-value"))
    counted = None not in votes.values()
    if counted and votes["VOTE_POUR"] + votes["VOTE_CONTRE"] + votes["VOTE_ABSTENTION"] != votes["VOTE_REEL"]:
        expected.add(("VOTE_REEL", "sum-columns-value"))
    for column in ("VOTE_POUR", "VOTE_CONTRE", "VOTE_ABSTENTION"):
        if votes["VOTE_REEL"] is not None and votes[column] is not None and votes[column] > votes["VOTE_REEL"]:
            expected.add(("VOTE_REEL", "compare-columns-value"))
    if first_line_of_id.setdefault(record["DELIB_ID"], line) != line:
        expected.add(("DELIB_ID", "duplicate-id"))
    return expected


def test_saint_etienne_reports_every_problem_of_every_row():
    with SAINT_ETIENNE.open(newline="", encoding="utf-8") as handle:
        records = list(csv.DictReader(handle))
    first_line_of_id = {}
    expected = {
        line: expected_saint_etienne_errors(record, first_line_of_id, line)
        for line, record in enumerate(records, start=2)
    }

    _, rows = open_scdl(SAINT_ETIENNE)
    checked = list(validate_rows(rows))

    assert {c.row: errors_of(c) for c in checked} == expected
    assert not any(c.valid for c in checked)  # every row lacks its matière code
    wrong_sums = [
        r
        for r in records
        if int(r["VOTE_POUR"] or 0) + int(r["VOTE_CONTRE"] or 0) + int(r["VOTE_ABSTENTION"] or 0) != int(r["VOTE_REEL"])
        and r["VOTE_POUR"]
    ]
    assert sum(i.code == "sum-columns-value" for c in checked for i in c.issues) == len(wrong_sums) > 0
    assert sum(i.code == "duplicate-id" for c in checked for i in c.issues) == len(records) - len(first_line_of_id)


def test_saint_etienne_messages_say_what_and_how():
    _, rows = open_scdl(SAINT_ETIENNE)
    first = next(validate_rows(rows))
    messages = [i.message for i in first.issues]

    assert "Ligne 2, DELIB_MATIERE_CODE : valeur vide ; ce champ est obligatoire (code @ctes comme 7.5)." in messages
    assert (
        "Ligne 2 : la somme VOTE_POUR + VOTE_CONTRE + VOTE_ABSTENTION (105) diffère de VOTE_REEL (89) ; "
        "corrigez les décomptes ou le nombre de votants."
    ) in messages
    assert any(
        m.startswith("Ligne 2 : VOTE_REEL (89) devrait être supérieur ou égal à VOTE_POUR (101)") for m in messages
    )
    assert any(
        "« COMMANDE PUBLIQUE » n'a pas la forme « matière/sous-matière »" in m
        and "« Commande Publique/Marchés publics »" in m
        for m in messages
    )


def test_rennes_numbers_7_1_and_7_10_are_never_confused():
    records = json.loads(RENNES.read_text(encoding="utf-8"))

    _, rows = open_scdl(RENNES)
    checked = list(validate_rows(rows, ScdlValidator(row_label="Enregistrement")))

    assert len(checked) == len(records)
    divers = [c for c, r in zip(checked, records, strict=True) if r["delib_matiere_nom"] == "Finances locales/Divers"]
    budget = [
        c
        for c, r in zip(checked, records, strict=True)
        if r["delib_matiere_nom"] == "Finances locales/Decisions budgetaires"
    ]
    assert len(divers) == 11 and len(budget) == 5
    for row in divers:
        assert row.values["matiere_code"] == "7.10"
        [warning] = [i for i in row.issues if i.column == "DELIB_MATIERE_CODE"]
        assert warning.severity == "warning" and warning.code == "matiere-code-interpreted"
        assert warning.message.startswith(
            f"Enregistrement {row.row}, DELIB_MATIERE_CODE : le nombre 7.1 a été lu comme le code 7.10 (Divers)"
        )
    for row in budget:
        assert row.values["matiere_code"] == "7.1"
        assert not [i for i in row.issues if i.column == "DELIB_MATIERE_CODE"]
    for row, record in zip(checked, records, strict=True):
        if record["delib_matiere_code"] != 7.1:
            assert row.values["matiere_code"] == repr(record["delib_matiere_code"])


def test_rennes_rows_are_valid_with_dates_and_null_votes():
    records = json.loads(RENNES.read_text(encoding="utf-8"))
    with_time = sum(1 for r in records if r["pref_date"] and " " in r["pref_date"])

    _, rows = open_scdl(RENNES)
    checked = list(validate_rows(rows))

    assert all(c.valid for c in checked)
    assert sum(i.code == "date-time-dropped" for c in checked for i in c.issues) == with_time > 0
    for row, record in zip(checked, records, strict=True):
        assert row.values["pref_date"] == (
            datetime.date.fromisoformat(record["pref_date"][:10]) if record["pref_date"] else None
        )
        assert row.values["vote_pour"] is None and row.values["budget_annee"] == ""
        assert row.values["delib_url"] == (record["delib_url"] or "")


@pytest.mark.parametrize("label", [None, "", "Finances locales", "Mon thème à moi"])
def test_numeric_7_1_without_a_deciding_label_is_an_error(label):
    checked = ScdlValidator().check_row(4, good_row(DELIB_MATIERE_CODE=7.1, DELIB_MATIERE_NOM=label))

    [issue] = [i for i in checked.issues if i.column == "DELIB_MATIERE_CODE"]
    assert issue.code == "matiere-code-ambiguous" and issue.severity == "error"
    assert f"7.1 ({nomenclature.get('7.1').label}) ou 7.10 ({nomenclature.get('7.10').label})" in issue.message
    assert not checked.valid


def test_numeric_code_without_ambiguity_is_read_as_text():
    checked = ScdlValidator().check_row(4, good_row(DELIB_MATIERE_CODE=7.5))

    assert checked.valid and not checked.issues
    assert checked.values["matiere_code"] == "7.5"


def test_spreadsheet_trimmed_7_10_text_is_restored_from_the_label():
    row = good_row(DELIB_MATIERE_CODE="7.1", DELIB_MATIERE_NOM="Finances locales/Divers")

    checked = ScdlValidator().check_row(4, row)

    assert checked.values["matiere_code"] == "7.10"
    assert [(i.code, i.severity) for i in checked.issues] == [("matiere-code-interpreted", "warning")]


def test_code_must_exist_in_the_nomenclature_and_agree_with_the_label():
    validator = ScdlValidator()

    unknown = validator.check_row(4, good_row(DELIB_MATIERE_CODE="7.11"))
    mismatch = validator.check_row(5, good_row(DELIB_MATIERE_CODE="7.2"))

    assert errors_of(unknown) == {("DELIB_MATIERE_CODE", "matiere-unknown")}
    assert mismatch.valid
    [warning] = mismatch.issues
    assert warning.code == "matiere-mismatch" and "Finances locales/Subventions" in warning.message


def test_every_problem_of_a_row_is_reported():
    row = good_row(
        COLL_SIRET="2135 0238 800019",
        DELIB_DATE="12/03/2024",
        DELIB_OBJET="  ",
        BUDGET_ANNEE="2024/2023",
        VOTE_REEL="dix-sept",
        VOTE_POUR="-1",
        DELIB_URL="www.example.fr",
        PREF_DATE="2024-03-01",
    )
    row[ROW_SHAPE_KEY] = (18, 17)

    checked = ScdlValidator().check_row(7, row)

    assert errors_of(checked) == {
        (None, "row-shape"),
        ("COLL_SIRET", "pattern-error"),
        ("DELIB_DATE", "type-error"),
        ("DELIB_OBJET", "required-error"),
        ("BUDGET_ANNEE", "year-interval-value"),
        ("VOTE_REEL", "type-error"),
        ("VOTE_POUR", "vote-range"),
        ("DELIB_URL", "type-error"),
    }
    messages = " | ".join(i.message for i in checked.issues)
    assert (
        "Ligne 7, DELIB_DATE : « 12/03/2024 » n'est pas une date au format AAAA-MM-JJ : écrivez 2024-03-12" in messages
    )
    assert "Ligne 7, BUDGET_ANNEE : période « 2024/2023 » invalide" in messages and "2023/2024" in messages
    assert checked.values["delib_date"] is None and checked.values["vote_reel"] is None


def test_cross_column_checks():
    validator = ScdlValidator()

    early = validator.check_row(2, good_row(PREF_DATE="2024-03-01"))
    partial_votes = validator.check_row(3, good_row(VOTE_CONTRE="", VOTE_ABSTENTION=""))
    budget_without_name = validator.check_row(4, good_row(BUDGET_NOM=""))
    more_voters = validator.check_row(5, good_row(VOTE_EFFECTIF="10"))
    same_years = validator.check_row(6, good_row(BUDGET_ANNEE="2024/2024"))

    assert errors_of(early) == {("PREF_DATE", "compare-columns-value")}
    assert "PREF_DATE (2024-03-01) devrait être supérieur ou égal à DELIB_DATE (2024-03-12)" in early.issues[0].message
    assert errors_of(partial_votes) == {("VOTE_CONTRE", "cohesive-columns-value")}
    assert "VOTE_CONTRE et VOTE_ABSTENTION sont vides" in partial_votes.issues[0].message
    assert errors_of(budget_without_name) == {("BUDGET_NOM", "cohesive-columns-value")}
    assert errors_of(more_voters) == {("VOTE_EFFECTIF", "compare-columns-value")}
    assert errors_of(same_years) == {("BUDGET_ANNEE", "year-interval-value")}


def test_siret_key_including_la_poste():
    assert siret_is_valid("21350238800019") and siret_is_valid("24420077000117")
    assert not siret_is_valid("21350238800018")
    assert siret_is_valid("35600000000048")  # La Poste head office: Luhn
    assert siret_is_valid("35600000049837") and not siret_is_valid("35600000049838")  # La Poste: digit sum

    checked = ScdlValidator().check_row(2, good_row(COLL_SIRET="21350238800018"))
    assert errors_of(checked) == {("COLL_SIRET", "french-siret-value")}


def test_values_are_typed_and_only_surrounding_spaces_stripped():
    checked = ScdlValidator().check_row(
        2, good_row(DELIB_OBJET="  Ligne un\nLigne deux  ", DELIB_URL="", PREF_DATE="2024-03-14T10:30:00")
    )

    assert checked.valid
    assert checked.values["objet"] == "Ligne un\nLigne deux"
    assert checked.values["delib_date"] == datetime.date(2024, 3, 12)
    assert checked.values["pref_date"] == datetime.date(2024, 3, 14)
    assert checked.values["vote_reel"] == 17 and checked.values["delib_url"] == ""
    assert [i.code for i in checked.issues] == ["date-time-dropped"]


def test_texts_too_long_for_the_register_are_refused():
    checked = ScdlValidator().check_row(2, good_row(DELIB_ID="X" * 101))

    assert errors_of(checked) == {("DELIB_ID", "too-long")}


def test_unknown_custom_check_in_schema_is_a_configuration_error(tmp_path):
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    schema["custom_checks"].append({"name": "phone-number-value", "params": {"column": "COLL_NOM"}})
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(schema))

    with pytest.raises(ValueError, match="phone-number-value"):
        ScdlValidator(schema_path=path)


def test_duplicate_ids_in_one_file():
    rows = [(2, good_row()), (3, good_row(DELIB_ID="2024-018")), (4, good_row())]

    checked = list(validate_rows(rows))

    assert [c.valid for c in checked] == [True, True, False]
    assert checked[2].issues[0].message.startswith("Ligne 4, DELIB_ID : l'identifiant « 2024-017 » figure déjà ligne 2")
    assert Counter(i.code for c in checked for i in c.issues) == {"duplicate-id": 1}


TRICKY_CELLS = {
    "DELIB_DATE": ["2024-03-12", "2024-02-30", "2024-2-3", "2024-03-12 ", "12/03/2024", "20240312", "", None],
    "DELIB_URL": [
        "https://www.example.fr/a.pdf",
        "https://example.fr/a b",
        "http://",
        "https://exa mple.fr",
        "https://example.fr/a?b=c&d=%C3%A9#e",
        "https://éxample.fr/",
        "www.example.fr",
        "ftp://x",
        "",
        None,
    ],
}


@pytest.mark.parametrize("column,value", [(c, v) for c, values in TRICKY_CELLS.items() for v in values])
def test_shortcut_readers_agree_with_frictionless(column, value):
    validator = ScdlValidator()
    schema_field = validator.schema.get_field(column)

    assert validator.cell_readers[column](value) == schema_field.read_cell(value)


def test_json_native_types():
    row = good_row(
        COLL_SIRET=21350238800019,
        BUDGET_ANNEE=2024,
        VOTE_EFFECTIF=19.0,
        VOTE_REEL=17,
        VOTE_POUR=15,
        VOTE_CONTRE=True,
        VOTE_ABSTENTION=1.5,
        DELIB_OBJET={"texte": "x"},
    )

    checked = ScdlValidator(row_label="Enregistrement").check_row(3, row)

    assert errors_of(checked) == {
        ("VOTE_CONTRE", "type-error"),
        ("VOTE_ABSTENTION", "type-error"),
        ("DELIB_OBJET", "type-error"),
    }
    assert checked.values["coll_siret"] == "21350238800019" and checked.values["budget_annee"] == "2024"
    assert checked.values["vote_effectif"] == 19
    assert any(
        i.message.startswith("Enregistrement 3, VOTE_ABSTENTION : « 1.5 » n'est pas un nombre entier")
        for i in checked.issues
    )


def test_a_single_row_without_number_is_worded_without_line():
    checked = ScdlValidator().check_row(None, good_row(VOTE_POUR="16", DELIB_DATE=""))

    assert sorted(i.message for i in checked.issues) == [
        "DELIB_DATE : valeur vide ; ce champ est obligatoire (ex. 2017-10-15).",
        "La somme VOTE_POUR + VOTE_CONTRE + VOTE_ABSTENTION (18) diffère de VOTE_REEL (17) ; corrigez les décomptes "
        "ou le nombre de votants.",
    ]
