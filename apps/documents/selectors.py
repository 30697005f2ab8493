from datetime import date

from .models import Collection, Document
from .search import SearchFilters


def documents_with_jobs():
    return Document.objects.select_related("collection", "job").defer("pages").order_by("-created_at", "-id")


def collection_name_taken(name: str, *, exclude_pk: int | None = None) -> bool:
    """Collection names are unique per authority, whatever their case."""
    return Collection.objects.filter(name__iexact=name).exclude(pk=exclude_pk).exists()


def filters_from(data: dict) -> SearchFilters:
    """SearchFilters from a validated SearchForm's cleaned_data (pages and API share it)."""
    filters = SearchFilters(
        collections=[c.pk for c in data.get("collection") or []],
        kinds=list(data.get("kind") or []),
        matieres=[data["matiere"]] if data.get("matiere") else [],
        date_from=data.get("date_from"),
        date_to=data.get("date_to"),
    )
    if data.get("year"):
        filters.date_from = max(filters.date_from or date.min, date(data["year"], 1, 1))
        filters.date_to = min(filters.date_to or date.max, date(data["year"], 12, 31))
    return filters
