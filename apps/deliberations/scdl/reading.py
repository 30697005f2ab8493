"""Read an SCDL « Délibérations » table (CSV in any usual encoding and delimiter, or JSON records) as a
stream of rows keyed by the canonical SCDL column names, refusing with a French message what is no table."""

from __future__ import annotations

import codecs
import csv
import functools
import io
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import charset_normalizer

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "reference" / "schema-deliberations-2.1.5.json"
SAMPLE_BYTES = 64 * 1024
CHUNK_BYTES = 1024 * 1024
DELIMITERS = [",", ";", "\t"]
# Single-byte encodings a French authority's spreadsheet may produce; charset-normalizer picks among these
# only, since left free it mistakes short French texts for Central-European code pages.
LEGACY_ENCODINGS = ["cp1252", "iso8859_15", "latin_1"]
ENCODING_NAMES = {"cp1252": "Windows-1252", "iso8859_15": "ISO-8859-15", "latin_1": "ISO-8859-1 (Latin-1)",
                  "utf-16": "UTF-16"}
# UTF-8 sequences of French letters and typographic quotes: found in a file that is not valid UTF-8, they
# mean two encodings were mixed (decoding it as Windows-1252 would yield « Ã© »).
UTF8_FRENCH_SEQUENCES = re.compile(rb"\xc3[\x80-\xbf]|\xc5[\x92\x93]|\xe2\x80[\x93\x94\x98\x99\x9c\x9d\xa6]")
JSON_WRAPPER_KEYS = ("records", "results", "data", "deliberations")
# Reserved key added to a CSV row whose cell count differs from the header's: (cells found, cells expected).
ROW_SHAPE_KEY = "_cells"

BINARY_SIGNATURES = [
    (b"PK\x03\x04", "un classeur (XLSX, ODS) ou une archive ZIP"),
    (b"\xd0\xcf\x11\xe0", "un classeur Excel ancien format (XLS)"),
    (b"%PDF", "un document PDF"),
    (b"\x1f\x8b", "une archive compressée (gzip)"),
    (b"\x89PNG", "une image PNG"),
    (b"\xff\xd8\xff", "une image JPEG"),
]
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


def open_scdl(path, filename: str = "") -> tuple[ScdlSource, Iterator[tuple[int, dict]]]:
    """Detect how the file is written and return its description and a lazy stream of (row number, row).

    `path` is a filesystem path or a seekable binary file object. Rows carry the canonical SCDL column
    names as keys (unknown columns dropped, columns absent from the file absent from the row) and raw
    values: CSV cells as str, JSON values with their native types (7.1 stays a number). A CSV row whose
    cell count differs from the header's also carries `ROW_SHAPE_KEY` for the validator.

    Row numbers: CSV rows are numbered as a spreadsheet shows them, the header being row 1 and the first
    data record row 2; a record whose quoted cells span several lines still counts as one row (so the
    number is the text-editor line only for files without multi-line cells). JSON records are numbered
    from 1. Iterating may still raise ScdlFormatError (an unclosed quote, a JSON item that is no object)."""
    label = f"« {filename} »" if filename else "Le fichier"
    with _binary(path) as stream:
        encoding, notices = _detect_encoding(stream, label)
        stream.seek(0)
        wrapper = io.TextIOWrapper(stream, encoding=encoding, newline="")
        head = wrapper.read(SAMPLE_BYTES)
        wrapper.detach()  # a collected wrapper would close the caller's file
    head = head.lstrip("\ufeff")
    _refuse_markup(head, label)
    if head.lstrip()[:1] in ("[", "{"):
        return _open_json(path, encoding, notices, label)
    return _open_csv(path, head, encoding, notices, label)


class _binary:
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


# --- encoding ------------------------------------------------------------------------------------------


def _detect_encoding(stream, label: str) -> tuple[str, list[str]]:
    head = stream.read(SAMPLE_BYTES)
    if not head.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        raise ScdlFormatError(f"{label} est vide : il ne contient aucune ligne. Vérifiez que vous avez déposé le "
                              "bon fichier.")
    for signature, kind in BINARY_SIGNATURES:
        if head.startswith(signature):
            raise ScdlFormatError(f"{label} est {kind}, pas un fichier CSV ou JSON. {SAVE_AS_CSV}")
    if head.startswith(codecs.BOM_UTF8):
        return _check_decodes(stream, "utf-8-sig", label), []
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _check_decodes(stream, "utf-16", label), ["Fichier encodé en UTF-16 : converti en UTF-8."]
    if b"\x00" in head:
        raise ScdlFormatError(f"{label} est un fichier binaire (octets nuls), pas un tableau CSV ou JSON. "
                              f"{SAVE_AS_CSV}")
    failing_chunk = _first_non_utf8_chunk(stream)
    if failing_chunk is None:
        return "utf-8", []
    best = charset_normalizer.from_bytes(failing_chunk, cp_isolation=LEGACY_ENCODINGS).best()
    encoding = best.encoding if best is not None else "cp1252"
    try:
        _check_not_mixed(stream, encoding, label)
    except UnicodeDecodeError:
        encoding = "latin_1"  # decodes any byte: the 5 bytes Windows-1252 leaves undefined included
        _check_not_mixed(stream, encoding, label)
    return encoding, [f"Fichier encodé en {ENCODING_NAMES[encoding]} : converti en UTF-8."]


def _chunks(stream):
    stream.seek(0)
    while chunk := stream.read(CHUNK_BYTES):
        yield chunk


def _first_non_utf8_chunk(stream) -> bytes | None:
    decoder = codecs.getincrementaldecoder("utf-8")()
    for chunk in _chunks(stream):
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as error:
            return chunk[max(0, error.start - SAMPLE_BYTES // 2):error.start + SAMPLE_BYTES // 2]
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return b"\xff"  # truncated multi-byte sequence at the very end: not UTF-8
    return None


def _check_decodes(stream, encoding: str, label: str) -> str:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        for chunk in _chunks(stream):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as error:
        raise ScdlFormatError(f"{label} annonce l'encodage {encoding.upper()} mais contient des octets invalides "
                              f"dans cet encodage. Réenregistrez-le en « CSV UTF-8 ».") from error
    return encoding


def _check_not_mixed(stream, encoding: str, label: str) -> None:
    decoder, tail = codecs.getincrementaldecoder(encoding)(), b""
    for chunk in _chunks(stream):
        decoder.decode(chunk)
        if UTF8_FRENCH_SEQUENCES.search(tail + chunk):
            raise ScdlFormatError(
                f"{label} mélange deux encodages (une partie en UTF-8, une autre en {ENCODING_NAMES[encoding]}) : "
                "les accents seraient corrompus. Ouvrez-le dans un tableur et réenregistrez-le en « CSV UTF-8 ».")
        tail = chunk[-2:]


def _refuse_markup(head: str, label: str) -> None:
    start = head.lstrip()[:100].lower()
    if start.startswith(("<!doctype html", "<html")):
        raise ScdlFormatError(f"{label} est une page web (HTML), pas un tableau : si vous avez donné une adresse, "
                              "vérifiez qu'elle mène directement au fichier CSV et non à la page qui le présente.")
    if start.startswith("<"):
        raise ScdlFormatError(f"{label} est un document XML, pas un tableau CSV ou JSON. {SAVE_AS_CSV}")


# --- columns -------------------------------------------------------------------------------------------


def _map_columns(found: list[str], label: str, notices: list[str], strict_header: bool) -> dict[int, str]:
    # strict_header: a CSV header must hold every required column; JSON records may omit keys (reported per row)
    """Position in the file → canonical SCDL name, for the columns the schema knows; notices for the rest."""
    known, mapping, renamed = set(scdl_field_names()), {}, []
    for position, name in enumerate(found):
        canonical = canonical_column(name)
        if canonical in known:
            if canonical in mapping.values():
                first = next(p for p, c in mapping.items() if c == canonical) + 1
                raise ScdlFormatError(f"La colonne {canonical} apparaît deux fois dans l'en-tête (colonnes {first} "
                                      f"et {position + 1}) : supprimez l'une des deux.")
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
            raise ScdlFormatError(f"{label} : les objets JSON n'ont aucune clé du schéma SCDL « Délibérations » "
                                  f"(clés lues : {shown}). Les clés attendues sont coll_nom, coll_siret, delib_id…")
        raise ScdlFormatError(
            f"{label} ne contient aucune colonne du schéma SCDL « Délibérations » (en-tête lu : {shown}). La "
            "première ligne doit nommer les colonnes : COLL_NOM, COLL_SIRET, DELIB_ID, DELIB_DATE… Vérifiez aussi "
            "le séparateur (virgule, point-virgule ou tabulation).")
    if renamed:
        notices.append("Noms de colonnes reconnus malgré leur graphie : " + ", ".join(renamed[:5])
                       + (" …" if len(renamed) > 5 else "") + ".")
    present = set(mapping.values())
    missing_required = [name for name in required_field_names() if name not in present]
    if strict_header and missing_required:
        raise ScdlFormatError(f"Colonnes obligatoires absentes de l'en-tête : {', '.join(missing_required)}. "
                              "Ajoutez-les (même vides) avec exactement ces noms, puis déposez à nouveau le fichier.")
    missing_optional = [n for n in scdl_field_names() if n not in present and n not in missing_required]
    if strict_header and missing_optional:
        notices.append(f"Colonnes facultatives absentes, considérées vides : {', '.join(missing_optional)}.")
    return mapping


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


def _open_csv(path, head: str, encoding: str, notices: list[str], label: str):
    delimiter, header = _sniff_delimiter(head)
    if delimiter == ";":
        notices.append("Séparateur « ; » détecté.")
    elif delimiter == "\t":
        notices.append("Séparateur tabulation détecté.")
    mapping = _map_columns(header, label, notices, strict_header=True)
    source = ScdlSource(format="csv", encoding=encoding, delimiter=delimiter, columns=header, notices=notices)
    return source, _csv_rows(path, encoding, delimiter, mapping, len(header))


def _csv_rows(path, encoding: str, delimiter: str, mapping: dict[int, str], width: int):
    with _binary(path) as stream:
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
                row = {name: record[position] if position < len(record) else None
                       for position, name in mapping.items()}
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
    return ("guillemet mal placé : un guillemet ouvert dans une cellule n'est pas refermé, ou un guillemet à "
            "l'intérieur d'un texte entre guillemets n'est pas doublé (\"\") ; corrigez cette ligne.")


# --- JSON ----------------------------------------------------------------------------------------------


def _open_json(path, encoding: str, notices: list[str], label: str):
    with _binary(path) as stream:
        text = io.TextIOWrapper(stream, encoding=encoding)
        try:
            first = next(iter(_json_records(text, label)), None)
        finally:
            text.detach()
    if first is None:
        raise ScdlFormatError(f"{label} ne contient aucun enregistrement (liste JSON vide).")
    if not isinstance(first, dict):
        raise ScdlFormatError(f"{label} : le JSON doit être une liste d'objets, un par délibération "
                              f"([{{\"coll_nom\": …}}, …]) ; le premier élément est « {str(first)[:40]} ».")
    columns = [str(key) for key in _unwrap(first)]
    _map_columns(columns, label, notices, strict_header=False)
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
    with _binary(path) as stream:
        text = io.TextIOWrapper(stream, encoding=encoding)
        try:
            for index, record in enumerate(_json_records(text, label), start=1):
                record = _unwrap(record)
                if not isinstance(record, dict):
                    raise ScdlFormatError(f"Enregistrement {index} : un objet JSON {{…}} est attendu, trouvé "
                                          f"« {str(record)[:40]} ». Chaque élément de la liste doit être un objet.")
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
        char = buffer[position:position + 1]
        if char == "]":
            return
        if char == "," and not expect_item:
            position, expect_item = position + 1, True
            continue
        try:
            if not expect_item or not char:
                raise json.JSONDecodeError("« , » ou « ] » attendu" if char else "fin de fichier inattendue",
                                           buffer, position)
            item, position = decoder.raw_decode(buffer, position)
        except json.JSONDecodeError as error:
            chunk = "" if eof else text.read(CHUNK_BYTES)
            if chunk:  # the item may just be cut by the end of the buffer
                buffer, position = buffer[position:] + chunk, 0
                continue
            raise ScdlFormatError(f"{label} n'est pas un JSON valide ({error.msg}). Vérifiez qu'il est complet "
                                  "(crochet « ] » final) et que les objets sont séparés par des virgules.") from error
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
    raise ScdlFormatError(f"{label} est un objet JSON sans liste d'enregistrements : une liste "
                          f"[{{\"coll_nom\": …}}, …] est attendue (ou un objet {{\"records\": [...]}}).")
