"""The two shapes of an SCDL table: CSV (any of the usual delimiters) and JSON records (a list, possibly
wrapped or nested the way open-data portals export it), each read lazily, one row at a time."""

from __future__ import annotations

import csv
import io
import json

from .fields import canonical_column, scdl_field_names
from .source import CHUNK_BYTES, ROW_SHAPE_KEY, SAVE_AS_CSV, ScdlFormatError, ScdlSource, binary_stream, map_columns

DELIMITERS = [",", ";", "\t"]
JSON_WRAPPER_KEYS = ("records", "results", "data", "deliberations")


# --- CSV -----------------------------------------------------------------------------------------------


def _sniff_delimiter(head: str) -> tuple[str, list[str]]:
    """The delimiter under which the first record names the most SCDL columns (then: splits into most cells)."""
    known, best = set(scdl_field_names()), None
    for delimiter in DELIMITERS:
        try:
            header = next(csv.reader(io.StringIO(head), delimiter=delimiter), [])
        except csv.Error:
            continue
        score = (sum(canonical_column(c) in known for c in header), len(header))
        if best is None or score > best[0]:
            best = (score, delimiter, header)
    if best is None:
        raise ScdlFormatError("La première ligne du fichier est illisible (guillemet non fermé ?). " + SAVE_AS_CSV)
    return best[1], best[2]


def open_csv(path, head: str, encoding: str, notices: list[str], label: str):
    delimiter, header = _sniff_delimiter(head)
    if delimiter == ";":
        notices.append("Séparateur « ; » détecté.")
    elif delimiter == "\t":
        notices.append("Séparateur tabulation détecté.")
    mapping = map_columns(header, label, notices, strict_header=True)
    source = ScdlSource(format="csv", encoding=encoding, delimiter=delimiter, columns=header, notices=notices)
    return source, _csv_rows(path, encoding, delimiter, mapping, len(header))


def _csv_rows(path, encoding: str, delimiter: str, mapping: dict[int, str], width: int):
    with binary_stream(path) as stream:
        text = io.TextIOWrapper(stream, encoding=encoding, newline="")
        # strict: a misplaced quote is refused rather than silently merging or mangling cells
        reader = csv.reader(text, delimiter=delimiter, strict=True)
        row_number = 1
        try:
            next(reader, None)
            for record in reader:
                row_number += 1
                if not any(cell.strip() for cell in record):
                    continue  # blank line or a spreadsheet's empty row
                row = {name: record[position] if position < len(record) else None for position, name in mapping.items()}
                if len(record) < width or any(cell.strip() for cell in record[width:]):
                    row[ROW_SHAPE_KEY] = (len(record), width)
                yield row_number, row
        except csv.Error as error:
            raise ScdlFormatError(f"Ligne {row_number + 1} : {_quote_problem(str(error))}") from error
        finally:
            text.detach()


def _quote_problem(error: str) -> str:
    if "field larger" in error:
        return "une cellule est anormalement longue : un guillemet ouvert n'est sans doute jamais refermé."
    return (
        "guillemet mal placé : un guillemet ouvert dans une cellule n'est pas refermé, ou un guillemet à "
        "l'intérieur d'un texte entre guillemets n'est pas doublé (\"\") ; corrigez cette ligne."
    )


# --- JSON ----------------------------------------------------------------------------------------------


def open_json(path, encoding: str, notices: list[str], label: str):
    with binary_stream(path) as stream:
        text = io.TextIOWrapper(stream, encoding=encoding)
        try:
            first = next(iter(_json_records(text, label)), None)
        finally:
            text.detach()
    if first is None:
        raise ScdlFormatError(f"{label} ne contient aucun enregistrement (liste JSON vide).")
    if not isinstance(first, dict):
        raise ScdlFormatError(
            f"{label} : le JSON doit être une liste d'objets, un par délibération "
            f'([{{"coll_nom": …}}, …]) ; le premier élément est « {str(first)[:40]} ».'
        )
    columns = [str(key) for key in _unwrap(first)]
    map_columns(columns, label, notices, strict_header=False)
    source = ScdlSource(format="json", encoding=encoding, delimiter=None, columns=columns, notices=notices)
    return source, _json_rows(path, encoding, label, notices)


def _unwrap(record):
    """Opendatasoft exports nest each record's columns under "fields"."""
    if isinstance(record, dict) and isinstance(record.get("fields"), dict):
        known = set(scdl_field_names())
        if not any(canonical_column(key) in known for key in record):
            return record["fields"]
    return record


def _json_rows(path, encoding: str, label: str, notices: list[str]):
    known = set(scdl_field_names())
    unknown_seen: set[str] = set()
    with binary_stream(path) as stream:
        text = io.TextIOWrapper(stream, encoding=encoding)
        try:
            for index, record in enumerate(_json_records(text, label), start=1):
                record = _unwrap(record)
                if not isinstance(record, dict):
                    raise ScdlFormatError(
                        f"Enregistrement {index} : un objet JSON {{…}} est attendu, trouvé "
                        f"« {str(record)[:40]} ». Chaque élément de la liste doit être un objet."
                    )
                row = {}
                for key, value in record.items():
                    canonical = canonical_column(key)
                    if canonical in known:
                        row[canonical] = value
                    elif index > 1 and key not in unknown_seen:
                        notices.append(f"Colonne inconnue ignorée : « {key} » (à partir de l'enregistrement {index}).")
                    unknown_seen.add(key)
                yield index, row
        finally:
            text.detach()


def _json_records(text, label: str):
    """Items of the top-level JSON list, decoded one at a time so memory stays bounded by one record.
    A top-level object is accepted only as a trivial wrapper ({"records": [...]}), read whole."""
    buffer = text.read(CHUNK_BYTES).lstrip("\ufeff").lstrip()
    if buffer.startswith("{"):
        yield from _wrapped_records(buffer + text.read(), label)
        return
    decoder, position, expect_item, eof = json.JSONDecoder(), 1, True, False  # position 1: past "["
    while True:
        while True:
            while position < len(buffer) and buffer[position].isspace():
                position += 1
            if position < len(buffer) or eof:
                break
            chunk = text.read(CHUNK_BYTES)
            buffer, position, eof = chunk, 0, not chunk
        char = buffer[position : position + 1]
        if char == "]":
            return
        if char == "," and not expect_item:
            position, expect_item = position + 1, True
            continue
        try:
            if not expect_item or not char:
                raise json.JSONDecodeError(
                    "« , » ou « ] » attendu" if char else "fin de fichier inattendue", buffer, position
                )
            item, position = decoder.raw_decode(buffer, position)
        except json.JSONDecodeError as error:
            chunk = "" if eof else text.read(CHUNK_BYTES)
            if chunk:  # the item may just be cut by the end of the buffer
                buffer, position = buffer[position:] + chunk, 0
                continue
            raise ScdlFormatError(
                f"{label} n'est pas un JSON valide ({error.msg}). Vérifiez qu'il est complet "
                "(crochet « ] » final) et que les objets sont séparés par des virgules."
            ) from error
        expect_item = False
        yield item
        if position > CHUNK_BYTES:
            buffer, position = buffer[position:], 0


def _wrapped_records(document: str, label: str):
    try:
        data = json.loads(document)
    except json.JSONDecodeError as error:
        raise ScdlFormatError(f"{label} n'est pas un JSON valide ({error.msg}, ligne {error.lineno}).") from error
    for key in JSON_WRAPPER_KEYS:
        if isinstance(data.get(key), list):
            yield from data[key]
            return
    raise ScdlFormatError(
        f"{label} est un objet JSON sans liste d'enregistrements : une liste "
        f'[{{"coll_nom": …}}, …] est attendue (ou un objet {{"records": [...]}}).'
    )
