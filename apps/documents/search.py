"""French hybrid search over an authority's chunks: full-text and vector candidates, fused.

Runs inside the caller's tenant context (row-level security) and also names the authority in
every query, so that a distributed (Citus) deployment can route it.
"""

import logging
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from django.db import connection
from django.utils.html import escape

from .embeddings import EmbeddingUnavailable, get_embedder, rerank
from .models import FULLTEXT_CONFIG, Document
from .query_text import normalise_query
from .vector_query import nearest_chunks

logger = logging.getLogger(__name__)
CANDIDATES = 50
BM25_K1, BM25_B = 1.2, 0.75
HEADING_BONUS = 1  # a word of the agenda item's title counts twice
# Reciprocal rank fusion: score = Σ weight / (RRF_K + rank). The usual k = 60 flattens first
# places, and fused below BM25 alone on MRR; with k = 2 a passage ranked first by either method
# stays near the top. Chosen on bench/retrieval (its README has the grid).
RRF_K = 2
FULLTEXT_WEIGHT = 1.0
VECTOR_WEIGHT = 1.0
MODES = ("hybrid", "fulltext", "vector")


@dataclass
class SearchFilters:
    collections: list[int] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    matieres: list[str] = field(default_factory=list)
    date_from: date | None = None
    date_to: date | None = None
    visibility: str | None = None
    documents: list[int] = field(default_factory=list)

    def sql(self, authority_id: int) -> tuple[str, list]:
        """A condition on chunks aliased `c`, as SQL and parameters."""
        document_conditions, params = ["d.authority_id = %s"], [authority_id]
        for column, values in (
            ("d.kind", self.kinds),
            ("d.matiere", self.matieres),
            ("d.id", self.documents),
            ("d.collection_id", self.collections),
        ):
            if values:
                document_conditions.append(f"{column} = ANY(%s)")
                params.append(list(values))
        if self.date_from:
            document_conditions.append("d.date >= %s")
            params.append(self.date_from)
        if self.date_to:
            document_conditions.append("d.date <= %s")
            params.append(self.date_to)
        if self.visibility:
            document_conditions.append(
                "d.collection_id IN (SELECT id FROM documents_collection WHERE authority_id = %s AND visibility = %s)"
            )
            params += [authority_id, self.visibility]
        condition = (
            "c.document_id IN (SELECT d.id FROM documents_document d WHERE "
            + " AND ".join(document_conditions)
            + " AND d.state = 'indexed')"
        )
        return condition, params


@dataclass
class Hit:
    chunk_id: int
    document_id: int
    document_title: str
    kind: str
    date: date | None
    collection: str
    pages: list[int]
    heading: str
    text: str
    snippet: str  # safe HTML: escaped text with <mark> around matched words
    score: float
    fulltext_rank: int | None = None
    vector_rank: int | None = None
    page: int = 1  # where the passage's matching words are (a passage may span two pages)

    @property
    def kind_label(self) -> str:
        return Document.Kind(self.kind).label if self.kind in Document.Kind.values else self.kind


@dataclass
class SearchResults:
    query: str
    mode: str
    hits: list[Hit]
    facets: dict[str, list[tuple[str, str, int]]]


def fulltext_candidates(authority_id: int, query: str, filters: SearchFilters, limit: int) -> list[tuple[int, float]]:
    """Okapi BM25 over the authority's chunks, computed in SQL from the stored tsvectors.

    PostgreSQL's ts_rank ignores how rare a word is; on minutes where "conseil" or "commune" are on
    every page, that buries the passage holding the rare words of the question. Document
    frequencies come from the GIN index, per authority, at query time.
    """
    condition, params = filters.sql(authority_id)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH terms AS (
                SELECT DISTINCT word FROM unnest(tsvector_to_array(to_tsvector('{FULLTEXT_CONFIG}', %s))) AS word
            ),
            stats AS (
                SELECT count(*) AS n, greatest(avg(token_count), 1) AS avg_len
                FROM documents_chunk WHERE authority_id = %s
            ),
            idf AS (
                SELECT t.word, ln(1 + (s.n - df.n + 0.5) / (df.n + 0.5)) AS weight
                FROM terms t CROSS JOIN stats s
                CROSS JOIN LATERAL (
                    SELECT count(*) AS n FROM documents_chunk c
                    WHERE c.authority_id = %s AND c.search_vector @@ quote_literal(t.word)::tsquery
                ) df
                WHERE df.n > 0
            ),
            query AS (
                SELECT to_tsquery('{FULLTEXT_CONFIG}', string_agg(quote_literal(word), ' | ')) AS q FROM idf
            )
            SELECT c.id,
                   sum(idf.weight * tf * {BM25_K1 + 1} / (tf + {BM25_K1} * (1 - {BM25_B} + {BM25_B} *
                       greatest(c.token_count, 1) / stats.avg_len))) AS score
            FROM query, stats, documents_chunk c
            CROSS JOIN LATERAL (
                SELECT u.lexeme, array_length(u.positions, 1)
                       + {HEADING_BONUS} * (SELECT count(*) FROM unnest(u.weights) w WHERE w = 'A') AS tf
                FROM unnest(c.search_vector) u
            ) words
            JOIN idf ON idf.word = words.lexeme
            WHERE c.authority_id = %s AND c.search_vector @@ query.q AND {condition}
            GROUP BY c.id
            ORDER BY score DESC, c.id
            LIMIT %s
            """,
            [query, authority_id, authority_id, authority_id, *params, limit],
        )
        return [(row[0], float(row[1])) for row in cursor.fetchall()]


# Any word of the query may match (plainto_tsquery would require all of them): used to highlight.
_OR_QUERY = f"replace(plainto_tsquery('{FULLTEXT_CONFIG}', %s)::text, ' & ', ' | ')::tsquery"


def vector_candidates(authority_id: int, query: str, filters: SearchFilters, limit: int) -> list[tuple[int, float]]:
    vector = get_embedder().embed_query(query)
    condition, params = filters.sql(authority_id)
    with connection.cursor() as cursor:
        return nearest_chunks(
            cursor, authority_id=authority_id, query_vector=vector, k=limit, filter_sql=condition, filter_params=params
        )


def fuse(rankings: list[tuple[list[int], float]]) -> list[tuple[int, float]]:
    """Weighted reciprocal rank fusion of several rankings of chunk ids."""
    scores: dict[int, float] = {}
    for ids, weight in rankings:
        for rank, chunk_id in enumerate(ids, start=1):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + weight / (RRF_K + rank)
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


def search(
    *,
    authority_id: int,
    query: str,
    filters: SearchFilters | None = None,
    limit: int = 10,
    mode: str = "hybrid",
    with_facets: bool = True,
) -> SearchResults:
    filters = filters or SearchFilters()
    text = normalise_query(query)
    if not text:
        return SearchResults(query=query, mode=mode, hits=[], facets={})
    fulltext = fulltext_candidates(authority_id, text, filters, CANDIDATES) if mode != "vector" else []
    try:
        vector = vector_candidates(authority_id, text, filters, CANDIDATES) if mode != "fulltext" else []
    except EmbeddingUnavailable as exc:
        if mode == "vector":
            raise
        logger.warning("Hybrid search without its vector half (embedder unavailable): %s", exc)
        vector, mode = [], "fulltext"  # the results say which search actually ran
    fulltext_ids, vector_ids = [i for i, _ in fulltext], [i for i, _ in vector]
    fused = fuse([(fulltext_ids, FULLTEXT_WEIGHT), (vector_ids, VECTOR_WEIGHT)])
    hits = _load_hits(authority_id, text, fused, fulltext_ids, vector_ids)
    hits = _rerank(query, hits)
    facets = _facets(hits) if with_facets else {}
    hits = hits[:limit]
    _locate_pages(hits, text)
    return SearchResults(query=query, mode=mode, hits=hits, facets=facets)


def _locate_pages(hits: list[Hit], text: str) -> None:
    """For passages spanning pages, link to the page holding most of the query's words."""
    spanning = [hit for hit in hits if len(hit.pages) > 1]
    if not spanning:
        return
    words = set(_words(text))
    pages = dict(Document.objects.filter(pk__in={hit.document_id for hit in spanning}).values_list("pk", "pages"))
    for hit in spanning:
        texts = {page["number"]: page["text"] for page in pages.get(hit.document_id, [])}
        hit.page = max(hit.pages, key=lambda n: (len(words & set(_words(texts.get(n, "")))), -n))


def _words(text: str) -> list[str]:
    plain = unicodedata.normalize("NFKD", text.lower())
    return re.findall(r"\w{4,}", "".join(c for c in plain if not unicodedata.combining(c)))


def _rerank(query: str, hits: list[Hit]) -> list[Hit]:
    scores = rerank(query, [hit.text for hit in hits[:CANDIDATES]])
    if scores is None:
        return hits
    for hit, score in zip(hits, scores, strict=False):
        hit.score = score
    return sorted(hits[: len(scores)], key=lambda hit: -hit.score) + hits[len(scores) :]


def _load_hits(authority_id, text, fused, fulltext_ids, vector_ids) -> list[Hit]:
    if not fused:
        return []
    ids = [chunk_id for chunk_id, _ in fused]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH q AS (SELECT {_OR_QUERY} AS query)
            SELECT c.id, c.document_id, d.title, d.kind, d.date, col.name, c.pages, c.heading, c.text,
                   ts_headline('{FULLTEXT_CONFIG}', c.text, q.query,
                               'StartSel=\x01, StopSel=\x02, MaxWords=40, MinWords=20, MaxFragments=2,
                                FragmentDelimiter=" … "')
            FROM documents_chunk c
            JOIN documents_document d ON d.id = c.document_id AND d.authority_id = c.authority_id
            JOIN documents_collection col ON col.id = c.collection_id AND col.authority_id = c.authority_id, q
            WHERE c.authority_id = %s AND c.id = ANY(%s)
            """,
            [text, authority_id, ids],
        )
        rows = {row[0]: row for row in cursor.fetchall()}
    ft_rank = {chunk_id: rank for rank, chunk_id in enumerate(fulltext_ids, start=1)}
    vec_rank = {chunk_id: rank for rank, chunk_id in enumerate(vector_ids, start=1)}
    return [
        Hit(
            chunk_id=row[0],
            document_id=row[1],
            document_title=row[2],
            kind=row[3],
            date=row[4],
            collection=row[5],
            pages=row[6],
            heading=row[7],
            text=row[8],
            snippet=_highlight(row[9]),
            score=score,
            fulltext_rank=ft_rank.get(row[0]),
            vector_rank=vec_rank.get(row[0]),
            page=row[6][0] if row[6] else 1,
        )
        for chunk_id, score in fused
        if (row := rows.get(chunk_id))
    ]


def _highlight(headline: str) -> str:
    """Escape the passage (it is user content), then turn the match markers into <mark>."""
    return escape(headline).replace("\x01", "<mark>").replace("\x02", "</mark>")


def _facets(hits: list[Hit]) -> dict[str, list[tuple[str, str, int]]]:
    """Per kind, collection and year: how many distinct documents among the results."""
    seen: dict[str, dict[str, set]] = {"kind": {}, "collection": {}, "year": {}}
    labels = {"kind": {k: str(v) for k, v in Document.Kind.choices}}
    for hit in hits:
        seen["kind"].setdefault(hit.kind, set()).add(hit.document_id)
        seen["collection"].setdefault(hit.collection, set()).add(hit.document_id)
        if hit.date:
            seen["year"].setdefault(str(hit.date.year), set()).add(hit.document_id)
    return {
        name: sorted(
            ((value, labels.get(name, {}).get(value, value), len(docs)) for value, docs in values.items()),
            key=lambda item: (-item[2], item[1]),
        )
        for name, values in seen.items()
    }
