"""Read an SCDL « Délibérations » table (CSV in any usual encoding and delimiter, or JSON records) as a
stream of rows keyed by the canonical SCDL column names, refusing with a French message what is no table."""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Iterator

import charset_normalizer

from .formats import open_csv, open_json
from .source import CHUNK_BYTES, SAMPLE_BYTES, SAVE_AS_CSV, ScdlFormatError, ScdlSource, binary_stream

# Single-byte encodings a French authority's spreadsheet may produce; charset-normalizer picks among these
# only, since left free it mistakes short French texts for Central-European code pages.
LEGACY_ENCODINGS = ["cp1252", "iso8859_15", "latin_1"]
ENCODING_NAMES = {
    "cp1252": "Windows-1252",
    "iso8859_15": "ISO-8859-15",
    "latin_1": "ISO-8859-1 (Latin-1)",
    "utf-16": "UTF-16",
}
# UTF-8 sequences of French letters and typographic quotes: found in a file that is not valid UTF-8, they
# mean two encodings were mixed (decoding it as Windows-1252 would yield « Ã© »).
UTF8_FRENCH_SEQUENCES = re.compile(rb"\xc3[\x80-\xbf]|\xc5[\x92\x93]|\xe2\x80[\x93\x94\x98\x99\x9c\x9d\xa6]")

BINARY_SIGNATURES = [
    (b"PK\x03\x04", "un classeur (XLSX, ODS) ou une archive ZIP"),
    (b"\xd0\xcf\x11\xe0", "un classeur Excel ancien format (XLS)"),
    (b"%PDF", "un document PDF"),
    (b"\x1f\x8b", "une archive compressée (gzip)"),
    (b"\x89PNG", "une image PNG"),
    (b"\xff\xd8\xff", "une image JPEG"),
]


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
    with binary_stream(path) as stream:
        encoding, notices = _detect_encoding(stream, label)
        stream.seek(0)
        wrapper = io.TextIOWrapper(stream, encoding=encoding, newline="")
        head = wrapper.read(SAMPLE_BYTES)
        wrapper.detach()  # a collected wrapper would close the caller's file
    head = head.lstrip("\ufeff")
    _refuse_markup(head, label)
    if head.lstrip()[:1] in ("[", "{"):
        return open_json(path, encoding, notices, label)
    return open_csv(path, head, encoding, notices, label)


# --- encoding ------------------------------------------------------------------------------------------


def _detect_encoding(stream, label: str) -> tuple[str, list[str]]:
    head = stream.read(SAMPLE_BYTES)
    if not head.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        raise ScdlFormatError(
            f"{label} est vide : il ne contient aucune ligne. Vérifiez que vous avez déposé le bon fichier."
        )
    for signature, kind in BINARY_SIGNATURES:
        if head.startswith(signature):
            raise ScdlFormatError(f"{label} est {kind}, pas un fichier CSV ou JSON. {SAVE_AS_CSV}")
    if head.startswith(codecs.BOM_UTF8):
        return _check_decodes(stream, "utf-8-sig", label), []
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _check_decodes(stream, "utf-16", label), ["Fichier encodé en UTF-16 : converti en UTF-8."]
    if b"\x00" in head:
        raise ScdlFormatError(
            f"{label} est un fichier binaire (octets nuls), pas un tableau CSV ou JSON. {SAVE_AS_CSV}"
        )
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
            return chunk[max(0, error.start - SAMPLE_BYTES // 2) : error.start + SAMPLE_BYTES // 2]
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
        raise ScdlFormatError(
            f"{label} annonce l'encodage {encoding.upper()} mais contient des octets invalides "
            f"dans cet encodage. Réenregistrez-le en « CSV UTF-8 »."
        ) from error
    return encoding


def _check_not_mixed(stream, encoding: str, label: str) -> None:
    decoder, tail = codecs.getincrementaldecoder(encoding)(), b""
    for chunk in _chunks(stream):
        decoder.decode(chunk)
        if UTF8_FRENCH_SEQUENCES.search(tail + chunk):
            raise ScdlFormatError(
                f"{label} mélange deux encodages (une partie en UTF-8, une autre en {ENCODING_NAMES[encoding]}) : "
                "les accents seraient corrompus. Ouvrez-le dans un tableur et réenregistrez-le en « CSV UTF-8 »."
            )
        tail = chunk[-2:]


def _refuse_markup(head: str, label: str) -> None:
    start = head.lstrip()[:100].lower()
    if start.startswith(("<!doctype html", "<html")):
        raise ScdlFormatError(
            f"{label} est une page web (HTML), pas un tableau : si vous avez donné une adresse, "
            "vérifiez qu'elle mène directement au fichier CSV et non à la page qui le présente."
        )
    if start.startswith("<"):
        raise ScdlFormatError(f"{label} est un document XML, pas un tableau CSV ou JSON. {SAVE_AS_CSV}")
