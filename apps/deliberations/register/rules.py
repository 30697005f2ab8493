"""The SCDL rules a single deliberation must meet, the same ones the import applies to each row: used by
the form, the API, publishing and the services."""

import functools
import re
from types import SimpleNamespace

from django.core.exceptions import ValidationError

from ..models import Deliberation
from ..scdl.export import scdl_row
from ..scdl.fields import COLUMNS, FIELDS, MATIERE_COLUMNS
from ..scdl.validation import ScdlValidator

COLUMN_NAME = re.compile(r"\b(" + "|".join(sorted(COLUMNS, key=len, reverse=True)) + r")\b")


class PublicationRefused(ValidationError):
    """The deliberation does not meet the SCDL schema: publishing it would break the open-data export."""


@functools.cache
def _validator() -> ScdlValidator:
    return ScdlValidator()


def scdl_issues(values: dict, *, require_matiere: bool = True) -> list[tuple[str, str]]:
    """(SCDL column, French message) for each error the import's validator finds in `values` (model
    field names): one rule set for the form, the API, publishing and the import.

    `require_matiere=False` lets a deliberation wait for its matière (classification comes later);
    publishing requires it, as the schema does."""
    row = scdl_row(SimpleNamespace(**{name: values.get(name) for name in FIELDS}))
    checked = _validator().check_row(None, row)
    issues = []
    for issue in checked.issues:
        if issue.severity != "error":
            continue
        if not require_matiere and not values.get("matiere_code") and issue.column in MATIERE_COLUMNS:
            continue
        issues.append((issue.column or "", _without_place(issue.message)))
    return issues


def _without_place(message: str) -> str:
    """The validator names the row and SCDL columns (« COLL_SIRET : … »); a form speaks of its fields."""
    head, separator, rest = message.partition(" : ")
    if separator and (head in COLUMNS or head == _validator().row_label):
        message = rest[:1].upper() + rest[1:]
    return COLUMN_NAME.sub(lambda match: f"« {_column_label(match.group(0))} »", message)


def _column_label(column: str) -> str:
    return str(Deliberation._meta.get_field(COLUMNS[column]).verbose_name)


def deliberation_issues(deliberation: Deliberation) -> list[str]:
    return [message for _, message in scdl_issues({name: getattr(deliberation, name) for name in FIELDS})]
