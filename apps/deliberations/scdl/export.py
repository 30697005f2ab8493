"""Write deliberations as an SCDL « Délibérations » CSV: UTF-8 text, comma, the schema's columns in order,
ISO dates, empty cells for missing values; `open_scdl` + the validator read it back unchanged."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import TextIO

from .fields import COLUMNS

# RFC 4180 ends records with CRLF; line breaks inside a quoted objet are kept as they are stored.
LINE_TERMINATOR = "\r\n"
QUERYSET_CHUNK = 2000


def scdl_row(deliberation) -> dict[str, str]:
    """One deliberation (a model instance or any object with its field names) as SCDL cells."""
    return {column: _cell(getattr(deliberation, name)) for column, name in COLUMNS.items()}


def write_scdl_csv(deliberations: Iterable, out: TextIO) -> int:
    """Write the header and one row per deliberation to `out` (open it with newline="" when it is a file);
    returns the number of rows written. A queryset is streamed, never loaded whole."""
    writer = csv.DictWriter(out, fieldnames=list(COLUMNS), lineterminator=LINE_TERMINATOR)
    writer.writeheader()
    if hasattr(deliberations, "iterator"):
        deliberations = deliberations.iterator(chunk_size=QUERYSET_CHUNK)
    count = 0
    for deliberation in deliberations:
        writer.writerow(scdl_row(deliberation))
        count += 1
    return count


def _cell(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
