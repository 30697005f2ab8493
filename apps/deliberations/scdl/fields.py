"""The SCDL « Délibérations » columns and the Deliberation fields that hold them, written here once: the
reader, the validator, the import, the export, the forms, the API and the services all read this map."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "reference" / "schema-deliberations-2.1.5.json"

# SCDL column → Deliberation field, in the schema's order (a test checks it against the schema file).
COLUMNS = {
    "COLL_NOM": "coll_nom",
    "COLL_SIRET": "coll_siret",
    "DELIB_ID": "delib_id",
    "DELIB_DATE": "delib_date",
    "DELIB_MATIERE_CODE": "matiere_code",
    "DELIB_MATIERE_NOM": "matiere_nom",
    "DELIB_OBJET": "objet",
    "BUDGET_ANNEE": "budget_annee",
    "BUDGET_NOM": "budget_nom",
    "PREF_ID": "pref_id",
    "PREF_DATE": "pref_date",
    "VOTE_EFFECTIF": "vote_effectif",
    "VOTE_REEL": "vote_reel",
    "VOTE_POUR": "vote_pour",
    "VOTE_CONTRE": "vote_contre",
    "VOTE_ABSTENTION": "vote_abstention",
    "DELIB_URL": "delib_url",
}
FIELDS = tuple(COLUMNS.values())  # the model fields, in the schema's order
VOTE_FIELDS = ("vote_effectif", "vote_reel", "vote_pour", "vote_contre", "vote_abstention")
MATIERE_COLUMNS = ("DELIB_MATIERE_CODE", "DELIB_MATIERE_NOM")
# What agents and API clients write: every column but the matière's label, which follows its code.
INPUT_FIELDS = tuple(name for name in FIELDS if name != "matiere_nom")
# The input where a rule's message about a column is shown (the label's problems next to the code).
INPUT_OF_COLUMN = {**COLUMNS, "DELIB_MATIERE_NOM": "matiere_code"}


@functools.cache
def schema_descriptor() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def scdl_field_names() -> list[str]:
    return [f["name"] for f in schema_descriptor()["fields"]]


def required_field_names() -> list[str]:
    return [f["name"] for f in schema_descriptor()["fields"] if f.get("constraints", {}).get("required")]


def canonical_column(name) -> str:
    """« coll_nom », « Coll Nom » → COLL_NOM (compared with the schema by the caller)."""
    return re.sub(r"[\s\-]+", "_", str(name).replace("\ufeff", "").strip().strip('"')).upper()
