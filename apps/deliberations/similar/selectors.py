"""Similar deliberations ("how did others decide?"): the nearest deliberations by embedding, in the
same authority (any state) and among other authorities' published ones, with filters on the authority.

Runs inside the current authority's tenant context; row-level security hides other authorities'
unpublished rows, and every query also says so explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from apps import french
from apps.documents.vector_query import nearest
from apps.tenants.context import current_authority_id
from apps.tenants.models import Authority

from ..models import Deliberation
from ..vectors import ensure_embeddings
from .comparison import votes_text

SCOPES = ("own", "others", "all")
DEFAULT_LIMIT = 10
MAX_LIMIT = 50


@dataclass(frozen=True)
class SimilarHit:
    deliberation: Deliberation
    authority_name: str
    authority_kind: str  # Authority.Kind value
    population: int | None
    score: float  # cosine similarity, 1.0 = same direction
    same_authority: bool

    @property
    def percent(self) -> int:
        return max(0, min(100, round(self.score * 100)))

    @property
    def authority_kind_label(self) -> str:
        return Authority.Kind(self.authority_kind).label if self.authority_kind in Authority.Kind.values else ""

    @property
    def authority_slug(self) -> str:
        return self.deliberation.authority.slug

    @property
    def population_text(self) -> str:
        return f"{french.number(self.population)} hab." if self.population else ""

    @property
    def votes(self) -> str:
        return votes_text(self.deliberation)


def similar_deliberations(
    *,
    deliberation: Deliberation,
    scope: str = "all",
    authority_kind: str = "",
    population_min: int | None = None,
    population_max: int | None = None,
    matiere_level1: str = "",
    limit: int = DEFAULT_LIMIT,
) -> list[SimilarHit]:
    """The `limit` deliberations nearest to `deliberation`, nearest first.

    scope: "own" (the current authority's, published or not), "others" (other authorities' published
    ones) or "all". authority_kind and the population range filter the *other* authorities only: the
    own authority is who is asking. matiere_level1 ("7") keeps deliberations of that @ctes level 1.
    The source's embedding is computed now if it has none; others without one (or with another
    model's) are skipped.
    """
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")
    authority_id = current_authority_id()
    if authority_id is None or deliberation.authority_id != authority_id:
        raise ValueError("similar_deliberations runs in the source deliberation's tenant context")
    vector = source_embedding(deliberation)
    if vector is None:
        return []
    where, params = _conditions(
        deliberation,
        scope=scope,
        authority_kind=authority_kind,
        population_min=population_min,
        population_max=population_max,
        matiere_level1=matiere_level1,
    )
    limit = max(1, min(int(limit), MAX_LIMIT))
    with connection.cursor() as cursor:
        # Few candidates (one authority, a rare kind): an exact scan; many (every public act of the
        # platform): the HNSW index, as for documents' passages.
        found = nearest(cursor, query_vector=vector, k=limit, source=SOURCE, alias="d", where=where, params=params)
    return _hits(found, authority_id)


def source_embedding(deliberation: Deliberation):
    """The deliberation's vector, computed and stored now when missing or from another model."""
    ensure_embeddings([deliberation])  # sets the instance's embedding and embedding_model
    return deliberation.embedding


def _conditions(
    deliberation: Deliberation,
    *,
    scope: str,
    authority_kind: str,
    population_min: int | None,
    population_max: int | None,
    matiere_level1: str,
) -> tuple[str, list]:
    """SQL conditions on `d` (the deliberation table) and `a` (its authority), with their params."""
    own = "d.authority_id = %s"
    others = ["d.authority_id <> %s", "d.published"]
    others_params: list = [deliberation.authority_id]
    if authority_kind:
        others.append("a.kind = %s")
        others_params.append(authority_kind)
    if population_min is not None:
        others.append("a.population >= %s")
        others_params.append(population_min)
    if population_max is not None:
        others.append("a.population <= %s")
        others_params.append(population_max)
    others_sql = "(" + " AND ".join(others) + ")"
    if scope == "own":
        where, params = [own], [deliberation.authority_id]
    elif scope == "others":
        where, params = [others_sql], others_params
    else:
        where, params = [f"({own} OR {others_sql})"], [deliberation.authority_id, *others_params]
    where.append("d.id <> %s")
    params.append(deliberation.pk)
    if deliberation.embedding_model:
        # Vectors of two embedding models are not comparable.
        where.append("d.embedding_model = %s")
        params.append(deliberation.embedding_model)
    if matiere_level1:
        where.append("(d.matiere_code = %s OR d.matiere_code LIKE %s)")
        params += [matiere_level1, f"{matiere_level1}.%"]
    return " AND ".join(where), params


# The deliberations searched (aliased d) with their authority (a), which the filters read.
SOURCE = "deliberations_deliberation d JOIN tenants_authority a ON a.id = d.authority_id"


def _hits(found: list[tuple[int, float]], authority_id: int) -> list[SimilarHit]:
    rows = Deliberation.all_tenants.select_related("authority").in_bulk([pk for pk, _ in found])
    hits = []
    for pk, distance in found:
        row = rows.get(pk)
        if row is None:  # deleted (or unpublished) between the two queries
            continue
        if row.authority_id != authority_id and not row.published:
            continue
        hits.append(
            SimilarHit(
                deliberation=row,
                authority_name=row.authority.name,
                authority_kind=row.authority.kind,
                population=row.authority.population,
                score=1.0 - distance,
                same_authority=row.authority_id == authority_id,
            )
        )
    return hits
