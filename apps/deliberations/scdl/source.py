"""What reading an SCDL file gives (its description, its rows) and how it refuses one, in French; the
pieces the CSV and JSON readers share (a seekable binary stream, the header's mapping to SCDL columns)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from .fields import canonical_column, required_field_names, scdl_field_names

SAMPLE_BYTES = 64 * 1024
CHUNK_BYTES = 1024 * 1024
# Reserved key added to a CSV row whose cell count differs from the header's: (cells found, cells expected).
ROW_SHAPE_KEY = "_cells"
SAVE_AS_CSV = "Enregistrez le tableau au format « CSV UTF-8 (délimité par des virgules) » puis déposez ce fichier."


class ScdlFormatError(Exception):
    """The file cannot be read as an SCDL table. `user_message` is French and shown to users as is."""

    def __init__(self, user_message: str):
        super().__init__(user_message)
        self.user_message = user_message


@dataclass
class ScdlSource:
    format: str  # "csv" | "json"
    encoding: str  # Python codec name: "utf-8", "utf-8-sig", "cp1252"…
    delimiter: str | None  # CSV only
    columns: list[str]  # header as found in the file
    notices: list[str] = field(default_factory=list)  # French; JSON may add some while rows are read


class binary_stream:
    """Context manager giving a seekable binary stream for a path or an already open file."""

    def __init__(self, source):
        self.source, self.opened = source, None

    def __enter__(self):
        if hasattr(self.source, "read"):
            self.source.seek(0)
            return self.source
        self.opened = open(os.fspath(self.source), "rb")
        return self.opened

    def __exit__(self, *exc):
        if self.opened is not None:
            self.opened.close()
        elif hasattr(self.source, "seek"):
            self.source.seek(0)


def map_columns(found: list[str], label: str, notices: list[str], strict_header: bool) -> dict[int, str]:
    # strict_header: a CSV header must hold every required column; JSON records may omit keys (reported per row)
    """Position in the file → canonical SCDL name, for the columns the schema knows; notices for the rest."""
    known, mapping, renamed = set(scdl_field_names()), {}, []
    for position, name in enumerate(found):
        canonical = canonical_column(name)
        if canonical in known:
            if canonical in mapping.values():
                first = next(p for p, c in mapping.items() if c == canonical) + 1
                raise ScdlFormatError(
                    f"La colonne {canonical} apparaît deux fois dans l'en-tête (colonnes {first} "
                    f"et {position + 1}) : supprimez l'une des deux."
                )
            mapping[position] = canonical
            if str(name).strip().upper() != canonical:  # lower-case names are common (JSON exports)
                renamed.append(f"« {str(name).strip()} » → {canonical}")
        elif str(name).strip():
            notices.append(f"Colonne inconnue ignorée : « {str(name).strip()} ».")
        else:
            notices.append(f"Colonne sans nom ignorée (colonne {position + 1}).")
    if not mapping:
        shown = ", ".join(f"« {str(n).strip()[:40]} »" for n in found[:3])
        if not strict_header:
            raise ScdlFormatError(
                f"{label} : les objets JSON n'ont aucune clé du schéma SCDL « Délibérations » "
                f"(clés lues : {shown}). Les clés attendues sont coll_nom, coll_siret, delib_id…"
            )
        raise ScdlFormatError(
            f"{label} ne contient aucune colonne du schéma SCDL « Délibérations » (en-tête lu : {shown}). La "
            "première ligne doit nommer les colonnes : COLL_NOM, COLL_SIRET, DELIB_ID, DELIB_DATE… Vérifiez aussi "
            "le séparateur (virgule, point-virgule ou tabulation)."
        )
    if renamed:
        notices.append(
            "Noms de colonnes reconnus malgré leur graphie : "
            + ", ".join(renamed[:5])
            + (" …" if len(renamed) > 5 else "")
            + "."
        )
    present = set(mapping.values())
    missing_required = [name for name in required_field_names() if name not in present]
    if strict_header and missing_required:
        raise ScdlFormatError(
            f"Colonnes obligatoires absentes de l'en-tête : {', '.join(missing_required)}. "
            "Ajoutez-les (même vides) avec exactement ces noms, puis déposez à nouveau le fichier."
        )
    missing_optional = [n for n in scdl_field_names() if n not in present and n not in missing_required]
    if strict_header and missing_optional:
        notices.append(f"Colonnes facultatives absentes, considérées vides : {', '.join(missing_optional)}.")
    return mapping
