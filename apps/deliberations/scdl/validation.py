"""Validate SCDL rows against the official Table Schema (types, required fields, patterns, via frictionless)
and its custom checks, plus what the register needs (@ctes code in the nomenclature, 7.1 vs 7.10 numbers,
values that fit the database), reporting every problem of a row in French."""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from frictionless import Schema

from .checks import CUSTOM_CHECKS, Issue, RowState
from .fields import COLUMNS, SCHEMA_PATH
from .matiere import AMBIGUOUS, MatiereChecker
from .source import ROW_SHAPE_KEY

__all__ = ["CheckedRow", "Issue", "ScdlValidator", "validate_rows"]

# How to write a good value, when the schema's own example is not enough.
HINTS = {
    "COLL_SIRET": "14 chiffres sans espace, ex. 21860194600013",
    "DELIB_MATIERE_CODE": "code @ctes comme 7.5",
    "DELIB_MATIERE_NOM": "intitulés @ctes « matière/sous-matière », ex. Finances locales/Subventions",
    "BUDGET_ANNEE": "AAAA ou AAAA/AAAA, ex. 2022 ou 2021/2022",
    "DELIB_URL": "adresse complète commençant par https://",
}
DATE_WITH_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(?:Z|[+-]\d{2}:?\d{2})?$")
FRENCH_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
MAX_VOTES = 2_147_483_647  # PositiveIntegerField's ceiling
# Values that certainly pass frictionless' date and uri readers, which are slow (strptime, rfc3986).
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
PLAIN_URL = re.compile(
    r"https?://[A-Za-z0-9.-]+(?::\d{1,5})?(?:/[A-Za-z0-9._~%!$&'()*+,;=:@/-]*)?"
    r"(?:\?[A-Za-z0-9._~%!$&'()*+,;=:@/?-]*)?"
)


@dataclass
class CheckedRow:
    row: int
    values: dict  # keyed by Deliberation field names, typed; "" for empty text, None for empty dates/numbers
    issues: list[Issue] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not any(issue.severity == "error" for issue in self.issues)


class ScdlValidator:
    """Checks one row at a time against the schema; `row_label` names rows in messages (« Enregistrement »
    suits JSON records)."""

    def __init__(self, schema_path=None, row_label: str = "Ligne"):
        descriptor = json.loads(Path(schema_path or SCHEMA_PATH).read_text(encoding="utf-8"))
        self.row_label = row_label
        self.schema = Schema.from_descriptor({k: v for k, v in descriptor.items() if k != "custom_checks"})
        self.fields = list(self.schema.fields)
        # frictionless builds a reader per read_cell() call; building each once makes validation ~2x faster
        self.cell_readers = {f.name: _with_shortcut(f, f.create_cell_reader()) for f in self.fields}
        self.matieres = MatiereChecker()
        self.custom_checks = []
        for check in descriptor.get("custom_checks", []):
            if check["name"] not in CUSTOM_CHECKS:
                raise ValueError(f"Unsupported SCDL custom check {check['name']!r} in {schema_path or SCHEMA_PATH}")
            self.custom_checks.append((CUSTOM_CHECKS[check["name"]], check.get("params", {})))
        from apps.deliberations.models import Deliberation

        self.max_lengths = {
            name: getattr(Deliberation._meta.get_field(attr), "max_length", None) for name, attr in COLUMNS.items()
        }

    def check_row(self, row_number: int | None, raw: dict) -> CheckedRow:
        state = RowState(row_number, self.row_label)
        if raw.get(ROW_SHAPE_KEY):
            found, expected = raw[ROW_SHAPE_KEY]
            state.add(
                None,
                "row-shape",
                f"{found} cellules au lieu de {expected} ; une virgule (ou un point-virgule) "
                "dans un texte doit être entourée de guillemets, sinon les valeurs glissent de colonne.",
            )
        for schema_field in self.fields:
            name = schema_field.name
            value = self._prepare(state, schema_field, raw.get(name))
            if name == "DELIB_MATIERE_CODE":
                value = self.matieres.resolve_code(state, value, raw.get("DELIB_MATIERE_NOM"))
                if value is AMBIGUOUS:
                    state.typed[name] = None
                    continue
            self._read(state, schema_field, value)
        self.matieres.check(state)
        self._check_database_limits(state)  # first, so that cross-column checks skip what cannot be stored
        for check, params in self.custom_checks:
            check(state, params)
        return CheckedRow(row=row_number, values=self._model_values(state), issues=state.issues)

    # --- cells -------------------------------------------------------------------------------------------

    def _prepare(self, state: RowState, schema_field, value):
        """Raw value → what frictionless reads: text stripped, empty → None, JSON numbers for text columns as
        text, a date's midnight (or other) time part dropped with a warning."""
        name = schema_field.name
        if isinstance(value, bool | dict | list):
            return value  # refused by read_cell as a type error
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
            if schema_field.type == "date" and (match := DATE_WITH_TIME.match(value)):
                state.add(
                    name,
                    "date-time-dropped",
                    f"« {value} » contient une heure ({match.group(2)}) : seule la "
                    f"date {match.group(1)} est retenue. Écrivez la date seule (AAAA-MM-JJ) pour un fichier "
                    "conforme.",
                    value,
                    severity="warning",
                )
                return match.group(1)
            return value
        if isinstance(value, int | float | Decimal) and schema_field.type == "string" and name != "DELIB_MATIERE_CODE":
            return str(int(value)) if value == int(value) else str(value)
        return value

    def _read(self, state: RowState, schema_field, value) -> None:
        name = schema_field.name
        if value is not None:
            state.filled.add(name)
        typed, notes = self.cell_readers[name](value)
        state.typed[name] = typed if not notes else None
        if not notes:
            return
        if value is not None:
            state.invalid.add(name)
        for kind in notes:
            state.add(name, f"{kind}-error", self._problem(schema_field, kind, value), value)

    def _problem(self, schema_field, kind: str, value) -> str:
        hint = HINTS.get(schema_field.name) or f"ex. {schema_field.example}"
        if kind == "required":
            return f"valeur vide ; ce champ est obligatoire ({hint})."
        shown = f"« {value} »"
        if kind == "type" and schema_field.type == "date":
            suggestion = ""
            if isinstance(value, str) and (match := FRENCH_DATE.match(value)):
                day, month, year = match.groups()
                suggestion = f" : écrivez {year}-{int(month):02d}-{int(day):02d}"
            return f"{shown} n'est pas une date au format AAAA-MM-JJ{suggestion} (ex. {schema_field.example})."
        if kind == "type" and schema_field.type == "integer":
            return (
                f"{shown} n'est pas un nombre entier ; indiquez un nombre sans espace ni décimale (ex. "
                f"{schema_field.example})."
            )
        if kind == "type" and schema_field.format == "uri":
            return f"{shown} n'est pas une adresse web complète ; indiquez une {hint}, ex. {schema_field.example}."
        if kind == "type":
            return f"{shown} n'est pas un texte ; indiquez une valeur simple ({hint})."
        if kind == "pattern":
            return f"{shown} n'a pas le format attendu ({hint})."
        return f"{shown} ne respecte pas la contrainte « {kind} » du schéma SCDL ({hint})."

    # --- database fit ------------------------------------------------------------------------------------

    def _check_database_limits(self, state: RowState) -> None:
        """What the schema allows but the register cannot store: negative or huge counts, overlong texts."""
        for name, max_length in self.max_lengths.items():
            value = state.typed.get(name)
            if name.startswith("VOTE_") and state.ok(name) and not 0 <= value <= MAX_VOTES:
                state.add(name, "vote-range", f"« {value} » : un décompte de voix est un nombre positif ou nul.", value)
                state.invalid.add(name)
            elif max_length and isinstance(value, str) and len(value) > max_length:
                state.add(
                    name,
                    "too-long",
                    f"{len(value)} caractères, au plus {max_length} acceptés ; raccourcissez la valeur.",
                    value[:80],
                )
                state.invalid.add(name)

    def _model_values(self, state: RowState) -> dict:
        values = {}
        for schema_field in self.fields:
            name, attr = schema_field.name, COLUMNS[schema_field.name]
            value = state.typed.get(name)
            if schema_field.type == "string":
                value = "" if value is None else str(value)
            values[attr] = value
        return values


def _with_shortcut(schema_field, reader):
    """frictionless' cell reader, preceded by a shortcut giving the same answer for the commonest well-formed
    dates and web addresses (validation then runs about twice as fast); anything else goes to frictionless."""
    if set(schema_field.constraints) - {"required"}:
        return reader
    if schema_field.type == "date" and schema_field.format == "default":

        def read_date(value):
            if isinstance(value, str) and ISO_DATE.fullmatch(value):
                try:
                    return datetime.date.fromisoformat(value), None
                except ValueError:
                    pass  # 2024-02-30: let frictionless word the error
            return reader(value)

        return read_date
    if schema_field.type == "string" and schema_field.format == "uri":

        def read_uri(value):
            if isinstance(value, str) and PLAIN_URL.fullmatch(value):
                return value, None
            return reader(value)

        return read_uri
    return reader


def validate_rows(rows: Iterable[tuple[int, dict]], validator: ScdlValidator | None = None) -> Iterator[CheckedRow]:
    """Check a stream of rows; also refuses a DELIB_ID already seen in the stream (the import, keyed by it,
    would otherwise overwrite the first deliberation with the second)."""
    validator = validator or ScdlValidator()
    first_seen: dict[str, int] = {}
    for row_number, raw in rows:
        checked = validator.check_row(row_number, raw)
        delib_id = checked.values.get("delib_id")
        if delib_id:
            if delib_id in first_seen:
                place = f"{validator.row_label} {row_number}, DELIB_ID"
                checked.issues.append(
                    Issue(
                        row=row_number,
                        column="DELIB_ID",
                        code="duplicate-id",
                        value=delib_id,
                        message=f"{place} : l'identifiant « {delib_id} » figure déjà {validator.row_label.lower()} "
                        f"{first_seen[delib_id]} ; chaque délibération doit avoir son propre identifiant.",
                    )
                )
            else:
                first_seen[delib_id] = row_number
        yield checked
