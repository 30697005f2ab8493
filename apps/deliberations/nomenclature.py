"""The @ctes nomenclature of matières: loaded from the préfecture's `RetourClassification` files
shipped in `reference/`, then looked up by code or by label."""

from __future__ import annotations

import functools
import re
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import Matiere

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"
# Later files win for labels (the 2011 one has accents and adds sub-matières); codes only in the
# national 2004 file are kept.
CLASSIFICATION_FILES = ["classification-actes-2004-04-01.xml", "classification-actes-2011-04-29-avec-sous-matieres.xml"]
ACTES_NS = "{http://www.interieur.gouv.fr/ACTES#v1.1-20040216}"
MAX_LEVEL = 5


def read_classification(path: Path) -> list[tuple[str, str, int]]:
    """(code, label, level) of every matière in a RetourClassification file, parents first.

    The 2011 file declares ISO-8859-1 but its bytes are UTF-8 (and so is the 2004 one): decode as
    UTF-8 and drop the declaration, which ElementTree would otherwise obey."""
    text = path.read_bytes().decode("utf-8")
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)
    root = ET.fromstring(text)  # noqa: S314 - trusted reference file
    found: list[tuple[str, str, int]] = []

    def walk(element, prefix: str, level: int) -> None:
        for child in element.findall(f"{ACTES_NS}Matiere{level}"):
            code = f"{prefix}.{child.get(f'{ACTES_NS}CodeMatiere')}" if prefix else child.get(f"{ACTES_NS}CodeMatiere")
            found.append((code, " ".join(child.get(f"{ACTES_NS}Libelle", "").split()), level))
            if level < MAX_LEVEL:
                walk(child, code, level + 1)

    matieres = root.find(f"{ACTES_NS}Matieres")
    if matieres is not None:
        walk(matieres, "", 1)
    return found


def load_nomenclature(model=None, using: str = "default") -> int:
    """Create or update the Matiere rows from the shipped files. Idempotent; returns the row count.
    `model` and `using` let a data migration pass its historical model and the owner's connection."""
    if model is None:
        from .models import Matiere as model
    entries: dict[str, tuple[str, int, str]] = {}
    for name in CLASSIFICATION_FILES:
        for code, label, level in read_classification(REFERENCE_DIR / name):
            entries[code] = (label, level, name)
    rows = {}
    for code in sorted(entries, key=lambda c: (entries[c][1], [int(p) for p in c.split(".")])):
        label, level, source = entries[code]
        parent = rows.get(code.rsplit(".", 1)[0]) if level > 1 else None
        rows[code], _ = model.objects.using(using).update_or_create(
            code=code, defaults={"label": label, "level": level, "parent": parent, "source": source}
        )
    for cached in (all_matieres, _by_code, _by_label):
        cached.cache_clear()
    return len(rows)


@functools.cache
def all_matieres() -> list:
    """Every matière, ordered by code (cached: reference data changes only with a migration).
    Reloaded from the shipped files if the table was emptied (a test flush, a manual purge)."""
    from .models import Matiere

    rows = list(Matiere.objects.all())
    if not rows:
        load_nomenclature()
        rows = list(Matiere.objects.all())
    return sorted(rows, key=lambda m: [int(p) for p in m.code.split(".")])


@functools.cache
def _by_code() -> dict:
    return {m.code: m for m in all_matieres()}


def get(code) -> Matiere | None:
    """The matière of a code written as text ("7.10"). Numbers are refused: 7.1 and 7.10 are the
    same float, so a caller holding a number must disambiguate first (see `candidates_for_number`)."""
    if not isinstance(code, str):
        return None
    return _by_code().get(code.strip())


def level1_code(code: str) -> str:
    return code.split(".")[0] if code else ""


def label_path(code: str) -> str:
    """« Finances locales/Divers » for 7.10: the level-1 and level-2 labels, as SCDL's DELIB_MATIERE_NOM."""
    matiere = get(code)
    if matiere is None:
        return ""
    parts, current = [], matiere
    while current is not None and current.level >= 1:
        parts.append(current.label)
        current = _by_code().get(current.code.rsplit(".", 1)[0]) if current.level > 1 else None
    labels = list(reversed(parts))
    return "/".join(labels[:2])


def normalise(text: str) -> str:
    """Accent-, case- and punctuation-insensitive form used to compare labels."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = text.replace("œ", "oe").replace("æ", "ae")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


@functools.cache
def _by_label() -> dict[str, object]:
    """Normalised label → matière: "level1 level2" paths first, then bare labels when unambiguous."""
    by_path, by_label, seen_twice = {}, {}, set()
    for matiere in all_matieres():
        if matiere.level == 1:
            by_path[normalise(matiere.label)] = matiere
        elif matiere.level == 2:
            by_path[normalise(label_path(matiere.code))] = matiere
        key = normalise(matiere.label)
        if key in by_label and by_label[key] is not matiere:
            seen_twice.add(key)
        by_label.setdefault(key, matiere)
    for key in seen_twice:  # "Autres", "Divers"…: a bare label that names several matières names none
        by_label.pop(key)
    return {**by_label, **by_path}


def match_label(nom: str) -> Matiere | None:
    """The matière named by a DELIB_MATIERE_NOM such as « Finances locales/Divers » (any accents,
    case, punctuation) or by a level-1 or unambiguous level-2 label alone."""
    return _by_label().get(normalise(nom)) if nom else None


def candidates_for_number(value: float | int) -> list[str]:
    """Codes a JSON number may stand for: 7.1 → ["7.1", "7.10"] (both exist), 7.5 → ["7.5"]."""
    text = repr(float(value)) if isinstance(value, float) else f"{value}"
    candidates = [text]
    if "." in text:
        head, tail = text.split(".", 1)
        if len(tail) == 1:
            candidates.append(f"{head}.{tail}0")
    return [code for code in candidates if code in _by_code()]


def choices(max_level: int = 2) -> list[tuple[str, str]]:
    """(code, « 7.5 Subventions ») pairs for select inputs."""
    return [(m.code, f"{m.code} {m.label}") for m in all_matieres() if m.level <= max_level]
