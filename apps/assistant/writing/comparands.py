"""What the comparison tool compares: two documents of the authority, or two items of a kind another
app registers from its `ready()` (the register: two deliberations, the authority's own or another's
published one). The assistant thus never imports the apps built on it."""

from collections.abc import Callable
from dataclasses import dataclass

from apps.documents.models import Document
from apps.tenants.context import tenant_context

from .sources import document_text, find_document


@dataclass(frozen=True)
class Comparand:
    text: str
    title: str
    kind: str  # what the model is told it is: « Délibération », « Procès-verbal »…
    date: object  # datetime.date or None
    info: dict  # what the result says about it


# input key → fn(pk, authority_id) -> Comparand, raising ToolInputError when that authority may not see it
_LOADERS: dict[str, Callable[[int, int], Comparand]] = {}


def register(key: str, load: Callable[[int, int], Comparand]) -> None:
    _LOADERS[key] = load


def kinds() -> list[str]:
    return list(_LOADERS)


def load(authority_id: int, data: dict) -> tuple[str, list[Comparand]]:
    """(input key, the two comparands) of a checked comparison request, read in the authority's context."""
    key = next(key for key in _LOADERS if key in data)
    with tenant_context(authority_id):
        return key, [_LOADERS[key](pk, authority_id) for pk in data[key]]


def _document(pk: int, authority_id: int) -> Comparand:
    """Another authority's document is not found (row-level security)."""
    document: Document = find_document(pk)
    return Comparand(
        document_text(document),
        document.title,
        document.get_kind_display(),
        document.date,
        {"document_id": document.pk},
    )


register("documents", _document)
