"""The matière columns of an SCDL row against the @ctes nomenclature: a code that exists at level 2, in
agreement with its label; and the ambiguity of numbers (a JSON 7.1 may mean 7.10), resolved by the label or
refused."""

from decimal import Decimal

from apps.deliberations import nomenclature

from .checks import RowState

AMBIGUOUS = object()  # a numeric matière code no label can resolve


class MatiereChecker:
    """One per validator: it remembers the labels it matched (a file repeats a handful of labels over
    thousands of rows)."""

    def __init__(self):
        self._named: dict[str, object] = {}

    def resolve_code(self, state: RowState, value, label):
        """A JSON number cannot tell 7.1 from 7.10 (nor can a spreadsheet that dropped the trailing zero):
        let DELIB_MATIERE_NOM decide, say so, and refuse to guess when it cannot."""
        column = "DELIB_MATIERE_CODE"
        is_number = isinstance(value, int | float | Decimal) and not isinstance(value, bool)
        if is_number:
            candidates = nomenclature.candidates_for_number(value)
            text = repr(float(value)) if isinstance(value, float) else str(value)
        elif isinstance(value, str) and value.endswith(".1"):
            text = value
            candidates = [value, f"{value}0"] if nomenclature.get(f"{value}0") else [value]
        else:
            return value
        if len(candidates) < 2:
            return candidates[0] if candidates else text
        short, long = candidates
        named = self.match_label(label.strip()) if isinstance(label, str) else None
        named_code = named.code if named is not None else ""
        if named_code == short:
            return short
        what = "le nombre" if is_number else "la valeur"
        short_label, long_label = nomenclature.get(short).label, nomenclature.get(long).label
        if named_code == long:
            state.add(
                column,
                "matiere-code-interpreted",
                f"{what} {text} a été lu comme le code {long} ({long_label}) "
                f"d'après DELIB_MATIERE_NOM « {label.strip()} » ; un nombre perd son zéro final : écrivez le "
                f'code comme texte ("{long}") pour lever l\'ambiguïté.',
                value,
                severity="warning",
            )
            return long
        if not is_number:
            return value  # « 7.1 » written as text means 7.1; a label for another matière is reported later
        state.add(
            column,
            "matiere-code-ambiguous",
            f"le nombre {text} est ambigu : {short} ({short_label}) ou {long} "
            f"({long_label}), un nombre perdant son zéro final, et DELIB_MATIERE_NOM ne permet pas de trancher ; "
            f"écrivez le code comme texte, « {short} » ou « {long} ».",
            value,
        )
        state.filled.add(column)
        state.invalid.add(column)
        return AMBIGUOUS

    def check(self, state: RowState) -> None:
        """The code must exist in the @ctes nomenclature, and should agree with the label when the label is @ctes."""
        column, code = "DELIB_MATIERE_CODE", state.typed.get("DELIB_MATIERE_CODE")
        if not state.ok(column):
            if "DELIB_MATIERE_CODE" not in state.filled and state.ok("DELIB_MATIERE_NOM"):
                named = self.match_label(state.typed["DELIB_MATIERE_NOM"])
                if named is not None and named.level == 2:
                    label = state.typed["DELIB_MATIERE_NOM"]
                    state.add(
                        column,
                        "matiere-code-suggestion",
                        f"DELIB_MATIERE_NOM « {label} » correspond au code {named.code} ; indiquez-le.",
                        severity="warning",
                    )
            return
        matiere = nomenclature.get(code)
        if matiere is None or matiere.level != 2:
            state.add(
                column,
                "matiere-unknown",
                f"le code « {code} » n'existe pas dans la nomenclature @ctes ; "
                "indiquez un code de niveau 2 de 1.1 à 9.4 (ex. 7.5 pour Finances locales/Subventions).",
                code,
            )
            state.invalid.add(column)
            return
        label = state.typed.get("DELIB_MATIERE_NOM")
        named = self.match_label(label) if state.ok("DELIB_MATIERE_NOM") else None
        if named is None:
            return
        if named.code != code and not (named.level == 1 and nomenclature.level1_code(code) == named.code):
            state.add(
                column,
                "matiere-mismatch",
                f"le code {code} ({nomenclature.label_path(code)}) ne correspond pas "
                f"à DELIB_MATIERE_NOM « {label} » ({named.code}) ; corrigez l'un des deux.",
                code,
                severity="warning",
            )

    def match_label(self, label: str):
        """nomenclature.match_label, remembered: a file repeats a handful of labels over thousands of rows."""
        if label not in self._named:
            if len(self._named) > 10_000:
                self._named.clear()
            self._named[label] = nomenclature.match_label(label)
        return self._named[label]
