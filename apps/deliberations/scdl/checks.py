"""The SCDL schema's `custom_checks` (validata's semantics: french-siret-value, year-interval-value,
cohesive-columns-value, compare-columns-value, sum-columns-value, nomenclature-actes-value), with French
messages that say what is wrong and how to fix it."""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass

from apps.deliberations import nomenclature

# What validata accepts before the « / » of DELIB_MATIERE_NOM (accents and case ignored). The shipped
# @ctes file spells one of them « pourvoirs »: its own level-1 labels are accepted too.
NOMENCLATURE_LEVEL1_LABELS = [
    "Commande publique",
    "Urbanisme",
    "Domaine et patrimoine",
    "Fonction publique",
    "Institutions et vie politique",
    "Libertés publiques et pouvoirs de police",
    "Finances locales",
    "Domaines de compétences par thèmes",
    "Autres domaines de compétences",
]
LA_POSTE_SIREN = "356000000"
LA_POSTE_HEAD_OFFICE = "35600000000048"  # the one La Poste SIRET that does follow the Luhn key
OPERATORS = {
    ">": (operator.gt, "supérieur à"),
    ">=": (operator.ge, "supérieur ou égal à"),
    "==": (operator.eq, "égal à"),
    "<=": (operator.le, "inférieur ou égal à"),
    "<": (operator.lt, "inférieur à"),
}
# Why a comparison matters, in the user's words: (column, column2) → reason.
COMPARE_REASONS = {
    ("PREF_DATE", "DELIB_DATE"): "un acte ne peut pas être reçu en préfecture avant d'avoir été adopté",
    ("VOTE_EFFECTIF", "VOTE_REEL"): "il ne peut y avoir plus de votants que de membres en exercice",
    ("VOTE_REEL", "VOTE_POUR"): "les voix pour ne peuvent pas dépasser le nombre de votants (pouvoirs compris)",
    ("VOTE_REEL", "VOTE_CONTRE"): "les voix contre ne peuvent pas dépasser le nombre de votants (pouvoirs compris)",
    ("VOTE_REEL", "VOTE_ABSTENTION"): "les abstentions ne peuvent pas dépasser le nombre de votants",
}


@dataclass
class Issue:
    row: int | None
    column: str | None
    code: str
    message: str
    value: str = ""
    severity: str = "error"  # or "warning"


class RowState:
    """One row while it is checked: typed values, which cells were filled and which failed their type."""

    def __init__(self, row: int | None, row_label: str):
        self.row, self.row_label = row, row_label
        self.typed: dict = {}
        self.filled: set[str] = set()
        self.invalid: set[str] = set()
        self.issues: list[Issue] = []

    def ok(self, column: str) -> bool:
        """Filled with a value of the right type: cross-column checks only look at those."""
        return column in self.filled and column not in self.invalid

    def where(self, column: str | None = None) -> str:
        place = f"{self.row_label} {self.row}" if self.row is not None else ""
        if column:
            return f"{place}, {column}" if place else column
        return place

    def add(
        self, column: str | None, code: str, message: str, value="", severity: str = "error", across: bool = False
    ) -> None:
        """`across`: the problem is between columns, so the message names the row only (its text names them)."""
        place = self.where(None if across else column)
        text = f"{place} : {message}" if place else message[:1].upper() + message[1:]  # a single row (form, API)
        self.issues.append(
            Issue(
                row=self.row,
                column=column,
                code=code,
                message=text,
                value="" if value is None else str(value),
                severity=severity,
            )
        )


def siret_is_valid(siret: str) -> bool:
    """Luhn key on the 14 digits, and on the SIREN; La Poste's establishments use a digit sum instead."""
    if len(siret) != 14 or not siret.isdigit():
        return False
    if siret.startswith(LA_POSTE_SIREN) and siret != LA_POSTE_HEAD_OFFICE:
        return sum(int(d) for d in siret) % 5 == 0
    return _luhn(siret) and _luhn(siret[:9])


def _luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def french_siret_value(state: RowState, params: dict) -> None:
    column = params["column"]
    value = state.typed.get(column)
    if state.ok(column) and not siret_is_valid(value):
        state.add(
            column,
            "french-siret-value",
            f"« {value} » n'est pas un numéro SIRET valide (sa clé de contrôle "
            "ne correspond pas) ; recopiez les 14 chiffres depuis annuaire-entreprises.data.gouv.fr.",
            value,
        )


def year_interval_value(state: RowState, params: dict) -> None:
    column = params["column"]
    value = state.typed.get(column)
    if not state.ok(column):
        return
    years = value.split("/")
    if len(years) == 1:
        if str(params.get("allow-year-only", "")).lower() not in ("yes", "true"):
            state.add(
                column,
                "year-interval-value",
                f"« {value} » : une période AAAA/AAAA est attendue (ex. {value}/{int(value) + 1}).",
                value,
            )
        return
    first, second = (int(y) for y in years)
    if first == second:
        state.add(
            column,
            "year-interval-value",
            f"période « {value} » invalide : les deux années sont identiques ; écrivez l'année seule ({first}).",
            value,
        )
    elif first > second:
        state.add(
            column,
            "year-interval-value",
            f"période « {value} » invalide : la seconde année doit suivre la première ; écrivez {second}/{first}.",
            value,
        )


def cohesive_columns_value(state: RowState, params: dict) -> None:
    columns = [params["column"], *params["othercolumns"]]
    filled = [c for c in columns if c in state.filled]
    if not filled or len(filled) == len(columns):
        return
    empty = [c for c in columns if c not in state.filled]
    state.add(
        empty[0],
        "cohesive-columns-value",
        f"{' et '.join(filled)} {'est rempli' if len(filled) == 1 else 'sont remplis'} mais "
        f"{' et '.join(empty)} {'est vide' if len(empty) == 1 else 'sont vides'} ; ces colonnes vont "
        "ensemble : remplissez-les toutes ou laissez-les toutes vides.",
        across=True,
    )


def compare_columns_value(state: RowState, params: dict) -> None:
    column, column2, op = params["column"], params["column2"], params["op"]
    if not (state.ok(column) and state.ok(column2)):
        return
    left, right = state.typed[column], state.typed[column2]
    compare, wording = OPERATORS[op]
    if not compare(left, right):
        reason = COMPARE_REASONS.get((column, column2), "corrigez l'une des deux valeurs")
        state.add(
            column,
            "compare-columns-value",
            f"{column} ({_show(left)}) devrait être {wording} {column2} ({_show(right)}) ; {reason}.",
            _show(left),
            across=True,
        )


def sum_columns_value(state: RowState, params: dict) -> None:
    total_column, parts = params["column"], params["columns"]
    if not all(state.ok(c) for c in [total_column, *parts]):
        return
    computed = sum(state.typed[c] for c in parts)
    if computed != state.typed[total_column]:
        state.add(
            total_column,
            "sum-columns-value",
            f"la somme {' + '.join(parts)} ({computed}) diffère de "
            f"{total_column} ({state.typed[total_column]}) ; corrigez les décomptes ou le nombre de votants.",
            computed,
            across=True,
        )


def nomenclature_actes_value(state: RowState, params: dict) -> None:
    """validata's rule: « level-1 label/anything », level 1 among the @ctes matières, no space around « / »."""
    column = params["column"]
    value = state.typed.get(column)
    if not state.ok(column):
        return
    if "/" not in value:
        state.add(
            column,
            "nomenclature-actes-value",
            f"« {value} » n'a pas la forme « matière/sous-matière » de la "
            "nomenclature @ctes (signe « / » manquant) ; écrivez par exemple "
            f"« {_label_example(state)} ».",
            value,
        )
        return
    prefix = value[: value.index("/")]
    if not _is_level1_label(prefix):
        state.add(
            column,
            "nomenclature-actes-value",
            f"« {prefix} » n'est pas une matière @ctes de niveau 1 "
            "(Commande publique, Urbanisme, Finances locales…) ; écrivez par exemple "
            f"« {_label_example(state)} ».",
            value,
        )
    elif prefix != prefix.rstrip() or "/ " in value:
        state.add(
            column,
            "nomenclature-actes-value",
            f"« {value} » : le signe « / » ne doit être ni précédé ni suivi d'une espace ; supprimez ces espaces.",
            value,
        )


def _label_example(state: RowState) -> str:
    """The label of the row's code if it has one, else of the first sub-matière of the matière it names."""
    if state.ok("DELIB_MATIERE_CODE") and (path := nomenclature.label_path(state.typed["DELIB_MATIERE_CODE"])):
        return path
    named = nomenclature.match_label(state.typed.get("DELIB_MATIERE_NOM") or "")
    if named is not None and (path := nomenclature.label_path(f"{nomenclature.level1_code(named.code)}.1")):
        return path
    return "Finances locales/Subventions"


@functools.lru_cache(maxsize=1024)
def _is_level1_label(text: str) -> bool:
    labels = NOMENCLATURE_LEVEL1_LABELS + [m.label for m in nomenclature.all_matieres() if m.level == 1]
    return nomenclature.normalise(text) in {nomenclature.normalise(label) for label in labels}


def _show(value) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


CUSTOM_CHECKS = {
    "french-siret-value": french_siret_value,
    "year-interval-value": year_interval_value,
    "cohesive-columns-value": cohesive_columns_value,
    "compare-columns-value": compare_columns_value,
    "sum-columns-value": sum_columns_value,
    "nomenclature-actes-value": nomenclature_actes_value,
}
