"""Reads on the register shared by the agents' pages, the API and the public register: filters by
year and matière, full-text search over objets and the acts' text, facets with counts.

Every query goes through `Deliberation.objects`, scoped to the current tenant context's authority:
row-level security lets anyone read other authorities' *published* deliberations, so the explicit
authority filter is what keeps a public register to its own authority.
"""

import re
from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import Case, CharField, Count, F, FloatField, Func, Q, QuerySet, Value, When
from django.db.models.functions import ExtractYear

from apps.documents.models import FULLTEXT_CONFIG, Collection
from apps.documents.search import SearchFilters, search
from apps.tenants.context import current_authority_id

from .. import nomenclature
from ..models import Deliberation, Session

MATIERE_CODE = re.compile(r"^\d{1,2}(\.\d{1,2}){0,4}$")
# Acts' passages considered per query: enough for a register page, bounded for the BM25 query.
DOCUMENT_CANDIDATES = 50
NO_MATIERE = "Non classée"


def matiere_filter(code: str) -> Q:
    """A matière and its sub-matières: "7" finds 7.1 and 7.10, "7.1" finds 7.1 and 7.1.2, never 7.10."""
    code = code.strip()
    return Q(matiere_code=code) | Q(matiere_code__startswith=f"{code}.")


def text_query(query: str) -> SearchQuery:
    return SearchQuery(query, config=FULLTEXT_CONFIG, search_type="websearch")


@dataclass
class RegisterFilters:
    query: str = ""
    year: int | None = None
    matiere: str = ""
    published: bool | None = None  # agents' filter; the public register forces True
    origin: str = ""
    session: int | None = None


@dataclass
class Register:
    """One page's worth of reading: the filtered deliberations and what helps narrow them."""

    deliberations: QuerySet
    years: list[tuple[int, int]] = field(default_factory=list)  # (year, count), latest first
    matieres: list[tuple[str, str, int]] = field(default_factory=list)  # level 1: (code, label, count)
    sub_matieres: list[tuple[str, str, int]] = field(default_factory=list)  # level 2 under the chosen one
    snippets: dict[int, str] = field(default_factory=dict)  # deliberation id → passage of its act (safe HTML)


def base_queryset(*, published_only: bool = False) -> QuerySet:
    queryset = Deliberation.objects.select_related("document", "session").defer("embedding", "text")
    return queryset.filter(published=True) if published_only else queryset


def register_queryset(
    *,
    published_only: bool = False,
    query: str = "",
    year: int | None = None,
    matiere: str = "",
    published: bool | None = None,
    origin: str = "",
    session: int | None = None,
) -> QuerySet:
    """The current authority's deliberations, filtered; ordered by relevance when searching, else by date."""
    filters = RegisterFilters(
        query=query, year=year, matiere=matiere, published=published, origin=origin, session=session
    )
    return search_register(filters, published_only=published_only, with_facets=False).deliberations


def search_register(filters: RegisterFilters, *, published_only: bool = False, with_facets: bool = True) -> Register:
    queryset = base_queryset(published_only=published_only)
    if filters.published is not None and not published_only:
        queryset = queryset.filter(published=filters.published)
    if filters.origin:
        queryset = queryset.filter(origin=filters.origin)
    if filters.session:
        queryset = queryset.filter(session_id=filters.session)
    ranked_documents: list[int] = []
    query = filters.query.strip()
    if query:
        matches = document_matches(query, published_only=published_only)
        ranked_documents = list(matches)
        queryset = queryset.filter(
            Q(search_vector=text_query(query)) | Q(delib_id__iexact=query) | Q(document_id__in=ranked_documents)
        )
    by_year = queryset.filter(matiere_filter(filters.matiere)) if filters.matiere else queryset
    by_matiere = queryset.filter(delib_date__year=filters.year) if filters.year else queryset
    selected = by_year.filter(delib_date__year=filters.year) if filters.year else by_year
    register = Register(deliberations=_ordered(selected, query, ranked_documents))
    if query:
        register.snippets = {
            pk: matches[document_id]
            for pk, document_id in selected.filter(document_id__in=ranked_documents).values_list("pk", "document_id")
        }
    if with_facets:
        register.years = year_facet(by_year)
        register.matieres = matiere_facet(by_matiere)
        if filters.matiere:
            register.sub_matieres = matiere_facet(
                by_matiere.filter(matiere_filter(filters.matiere.split(".")[0])), level=2
            )
    return register


def _ordered(queryset: QuerySet, query: str, ranked_documents: list[int]) -> QuerySet:
    if not query:
        return queryset.order_by("-delib_date", "-delib_id", "-pk")
    # Objet matches rank by ts_rank (≈0–1); an act's passage adds a bonus decreasing with its rank.
    document_bonus = Case(
        *[
            When(document_id=doc_id, then=Value(1.0 / (1 + position)))
            for position, doc_id in enumerate(ranked_documents)
        ],
        default=Value(0.0),
        output_field=FloatField(),
    )
    relevance = SearchRank(F("search_vector"), text_query(query)) + document_bonus
    return queryset.annotate(relevance=relevance).order_by("-relevance", "-delib_date", "-delib_id", "-pk")


def document_matches(query: str, *, published_only: bool) -> dict[int, str]:
    """Acts whose text matches the query, best first: {document id: highlighted passage}.

    Full-text only: vector search always returns the nearest passages, however far, so it cannot
    say whether an act *matches*. The public register only looks into public collections' acts of
    published deliberations, so no internal passage can surface there.
    """
    linked = Deliberation.objects.filter(document__isnull=False)
    if published_only:
        linked = linked.filter(published=True)
    document_ids = sorted(set(linked.values_list("document_id", flat=True)))
    if not document_ids:
        return {}
    filters = SearchFilters(documents=document_ids, visibility=Collection.Visibility.PUBLIC if published_only else None)
    results = search(
        authority_id=current_authority_id(),
        query=query,
        filters=filters,
        limit=DOCUMENT_CANDIDATES,
        mode="fulltext",
        with_facets=False,
    )
    matches: dict[int, str] = {}
    for hit in results.hits:
        matches.setdefault(hit.document_id, hit.snippet)
    return matches


def attach_snippets(deliberations, snippets: dict[int, str]) -> None:
    """Give each deliberation of a page the passage of its act that matched (`deliberation.snippet`)."""
    for deliberation in deliberations:
        deliberation.snippet = snippets.get(deliberation.pk, "")


def year_facet(queryset: QuerySet) -> list[tuple[int, int]]:
    rows = (
        queryset.order_by()
        .annotate(year=ExtractYear("delib_date"))
        .values("year")
        .annotate(count=Count("pk"))
        .order_by("-year")
    )
    return [(row["year"], row["count"]) for row in rows]


def matiere_facet(queryset: QuerySet, level: int = 1) -> list[tuple[str, str, int]]:
    """(code, label, count) per matière of that level, by code order; deliberations without one last."""
    if level == 1:
        prefix = Func(F("matiere_code"), Value("."), Value(1), function="split_part", output_field=CharField())
    else:
        prefix = Func(F("matiere_code"), Value(r"^\d+\.\d+"), function="substring", output_field=CharField())
    rows = queryset.order_by().annotate(prefix=prefix).values("prefix").annotate(count=Count("pk"))
    facet = []
    for row in rows:
        code = row["prefix"] or ""
        if level > 1 and not code:
            continue
        matiere = nomenclature.get(code)
        facet.append((code, matiere.label if matiere else (code or NO_MATIERE), row["count"]))
    return sorted(facet, key=lambda item: (not item[0], _code_key(item[0])))


def _code_key(code: str) -> list[int]:
    return [int(part) for part in code.split(".") if part.isdigit()]


def sessions_with_counts() -> QuerySet:
    return Session.objects.annotate(deliberation_count=Count("deliberations")).order_by("-date", "-pk")
