"""Filtered nearest-neighbour search over embeddings (pgvector >= 0.8), as plain SQL: the passages of
documents, and any table with an `embedding` column (deliberations use `nearest`).

One HNSW index holds every authority's chunks, so "index scan, then WHERE authority_id = X" finds
almost nothing for a small authority. Small authorities are scanned exactly through the authority
btree; large ones use pgvector's iterative index scan. Thresholds are measured by bench/scale.

Takes any DB-API cursor using %s placeholders (psycopg 3, or Django's `connection.cursor()`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Authorities with at most this many chunks are scanned exactly (recall 1.0). documents_chunk rows
# outgrow 2 kB, so the embedding is TOASTed and the exact scan costs 3-5 us a chunk: ~20 ms p50 and
# 27-35 ms p95 at 5,000 on the busy 2-core bench. Around 5k the iterative scan is faster at p50 but
# has the longer tail; well above, it wins outright. Stored inline (SET STORAGE PLAIN), the exact
# scan is ~3x cheaper and this could rise to ~15k. Measurements: bench/scale/README.md.
EXACT_SCAN_MAX_ROWS = 5_000

# Iterative index scan settings, from the same bench: per-authority recall@10 0.94-1.0 (mean ~0.98)
# above the threshold. ef_search 100, 200 and 400 differ in recall by less than the noise between
# query samples and cost ~8, 10 and 13 ms p50.
ITERATIVE_SCAN = "relaxed_order"
EF_SEARCH = 200
MAX_SCAN_TUPLES = 20_000

_SAVEPOINT = "nearest_chunks"
_TABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?")


SCANS = ("auto", "exact", "index")


def nearest(
    cursor,
    *,
    query_vector,
    k: int,
    source: str,
    alias: str,
    where: str,
    params: Sequence = (),
    rows: int | None = None,
    scan: str = "auto",
) -> list[tuple[int, float]]:
    """[(id, cosine distance)] of the k rows nearest to `query_vector` among those of `source` matching
    `where`, nearest first. The public entry point for every vector search (chunks, deliberations).

    source: the FROM clause, its searched table aliased `alias` (it has `id` and `embedding`), joins
    allowed ("deliberations_deliberation d JOIN tenants_authority a ON a.id = d.authority_id"); where:
    SQL conditions with %s params (a literal percent sign written %%). rows: how many rows the search
    is about, if the caller knows (else those matching `where` are counted, up to EXACT_SCAN_MAX_ROWS + 1).
    Few rows: an exact scan (recall 1.0). Many: pgvector's iterative HNSW scan, then the exact scan when
    the filter was too selective for it to find k rows. Rows without an embedding are skipped.
    scan="exact" or "index" forces one scan, as is (tests and benchmarks compare them).
    """
    if scan not in SCANS:
        raise ValueError(f"scan must be one of {SCANS}, got {scan!r}")
    where = f"{alias}.embedding IS NOT NULL{_and(where)}"
    query = _Query(vector=vector_literal(query_vector), source=source, alias=alias, where=where, params=params, k=k)
    return _search(cursor, query, rows=rows, scan=scan)


def _search(cursor, query: _Query, *, rows: int | None, scan: str = "auto") -> list[tuple[int, float]]:
    """The scan `nearest` documents: forced, or chosen by how many rows the search is about."""
    if scan != "auto":
        return _exact_scan(cursor, query) if scan == "exact" else _index_scan(cursor, query)
    if rows is None:
        cursor.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {query.source} WHERE {query.where} LIMIT %s) AS capped",
            [*query.params, EXACT_SCAN_MAX_ROWS + 1],
        )
        rows = cursor.fetchone()[0]
    if rows > EXACT_SCAN_MAX_ROWS:
        found = _index_scan(cursor, query)
        if len(found) >= query.k:
            return found
    return _exact_scan(cursor, query)


def nearest_chunks(
    cursor,
    *,
    authority_id: int,
    query_vector,
    k: int = 10,
    tenant_rows: int | None = None,
    filter_sql: str = "",
    filter_params: Sequence = (),
    table: str = "documents_chunk",
) -> list[tuple[int, float]]:
    """Return [(chunk_id, cosine_distance)] of the k nearest chunks of this authority, nearest first.

    filter_sql is an extra SQL condition on the chunk table aliased `c` (e.g. "c.collection_id = ANY(%s)"),
    with its params; a literal percent sign in it must be written %%.
    tenant_rows: the authority's chunk count if the caller knows it (else it is counted, index-only,
    and only up to EXACT_SCAN_MAX_ROWS + 1): the scan is chosen by the authority's size, whatever the filter.
    Changes no setting visible after it returns.
    """
    if tenant_rows is None:
        tenant_rows = count_tenant_rows(cursor, authority_id=authority_id, table=table, limit=EXACT_SCAN_MAX_ROWS + 1)
    return _search(
        cursor, _chunk_query(authority_id, query_vector, k, filter_sql, filter_params, table), rows=tenant_rows
    )


def exact_nearest(
    cursor,
    *,
    authority_id: int,
    query_vector,
    k: int = 10,
    filter_sql: str = "",
    filter_params: Sequence = (),
    table: str = "documents_chunk",
) -> list[tuple[int, float]]:
    """Exact k nearest chunks of the authority, found through the btree on authority_id (the benchmark's
    baseline; `nearest_chunks` chooses it for small authorities)."""
    return _exact_scan(cursor, _chunk_query(authority_id, query_vector, k, filter_sql, filter_params, table))


def index_nearest(
    cursor,
    *,
    authority_id: int,
    query_vector,
    k: int = 10,
    filter_sql: str = "",
    filter_params: Sequence = (),
    table: str = "documents_chunk",
    iterative_scan: str = ITERATIVE_SCAN,
    ef_search: int = EF_SEARCH,
    max_scan_tuples: int = MAX_SCAN_TUPLES,
) -> list[tuple[int, float]]:
    """Approximate k nearest chunks through the HNSW index, filtered by authority while scanning.
    With iterative_scan="off" this is the naive post-filter (kept for the benchmark)."""
    return _index_scan(
        cursor,
        _chunk_query(authority_id, query_vector, k, filter_sql, filter_params, table),
        iterative_scan=iterative_scan,
        ef_search=ef_search,
        max_scan_tuples=max_scan_tuples,
    )


@dataclass(frozen=True)
class _Query:
    vector: str  # pgvector's text form
    source: str
    alias: str
    where: str  # the embedding condition included
    params: Sequence
    k: int


def _chunk_query(authority_id, query_vector, k, filter_sql, filter_params, table) -> _Query:
    return _Query(
        vector=vector_literal(query_vector),
        source=f"{_table(table)} c",
        alias="c",
        where=f"c.authority_id = %s AND c.embedding IS NOT NULL{_and(filter_sql)}",
        params=[authority_id, *filter_params],
        k=k,
    )


def _exact_scan(cursor, query: _Query) -> list[tuple[int, float]]:
    # OFFSET 0 keeps the subquery from being flattened, so the ORDER BY cannot be served by the HNSW
    # index (which would post-filter and lose rows), and the distance is computed once per row.
    cursor.execute(
        f"""
        SELECT id, distance FROM (
            SELECT {query.alias}.id, {query.alias}.embedding <=> %s::vector AS distance
            FROM {query.source}
            WHERE {query.where}
            OFFSET 0
        ) AS candidates
        ORDER BY distance, id
        LIMIT %s
        """,
        [query.vector, *query.params, query.k],
    )
    return [(row[0], float(row[1])) for row in cursor.fetchall()]


def _index_scan(
    cursor,
    query: _Query,
    *,
    iterative_scan: str = ITERATIVE_SCAN,
    ef_search: int = EF_SEARCH,
    max_scan_tuples: int = MAX_SCAN_TUPLES,
) -> list[tuple[int, float]]:
    # In relaxed_order, pgvector returns matches only roughly by distance, so they are re-sorted outside
    # the scan. "+ 0" is needed: PostgreSQL >= 17 takes a materialized CTE's order from its ORDER BY and
    # would only sort ties (pgvector issue #862). Taking 2-4 k matches in the scan did not raise recall.
    settings = {
        "hnsw.iterative_scan": iterative_scan,
        "hnsw.ef_search": str(ef_search),
        "hnsw.max_scan_tuples": str(max_scan_tuples),
        # Any plan but the HNSW one needs a sort: without this, a stale estimate of the
        # authority's size could pick btree + sort over a large tenant.
        "enable_sort": "off",
    }
    sql = f"""
        WITH candidates AS MATERIALIZED (
            SELECT {query.alias}.id, {query.alias}.embedding <=> %s::vector AS distance
            FROM {query.source}
            WHERE {query.where}
            ORDER BY distance
            LIMIT %s
        )
        SELECT id, distance FROM candidates
        ORDER BY distance + 0, id
        LIMIT %s
        """
    with transaction_settings(cursor, settings):
        cursor.execute(sql, [query.vector, *query.params, query.k, query.k])
        return [(row[0], float(row[1])) for row in cursor.fetchall()]


def count_tenant_rows(cursor, *, authority_id: int, table: str = "documents_chunk", limit: int | None = None) -> int:
    """The authority's chunk count (with or without embedding), stopping at `limit` if given."""
    if limit is None:
        cursor.execute(f"SELECT count(*) FROM {_table(table)} WHERE authority_id = %s", [authority_id])
    else:
        cursor.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {_table(table)} WHERE authority_id = %s LIMIT %s) AS capped",
            [authority_id, limit],
        )
    return cursor.fetchone()[0]


def vector_literal(query_vector) -> str:
    """pgvector's text form, '[0.1,0.2,...]', of a list, tuple, numpy array or pgvector Vector."""
    if isinstance(query_vector, str):
        return query_vector
    if hasattr(query_vector, "to_list"):  # pgvector.Vector
        query_vector = query_vector.to_list()
    elif hasattr(query_vector, "tolist"):  # numpy
        query_vector = query_vector.tolist()
    return "[" + ",".join(format(float(x), ".9g") for x in _flat(query_vector)) + "]"


def _flat(values: Iterable) -> Iterable:
    for value in values:
        if isinstance(value, list | tuple):
            raise ValueError("query_vector must be one-dimensional")
        yield value


class transaction_settings:
    """Apply settings for the enclosed statements only, then undo them.

    Inside a transaction (the normal case) this is a savepoint rolled back afterwards: SET LOCAL
    alone would last until the caller's transaction ends. On an autocommit connection with no
    transaction open, it opens (and rolls back) its own, else the settings would vanish before
    the query runs. The enclosed statements must only read.
    """

    def __init__(self, cursor, settings: dict[str, str]):
        self.cursor, self.settings = cursor, settings
        self.own_transaction = _outside_transaction(cursor)

    def __enter__(self):
        self.cursor.execute("BEGIN" if self.own_transaction else f"SAVEPOINT {_SAVEPOINT}")
        self.cursor.execute(
            "SELECT " + ", ".join(["set_config(%s, %s, true)"] * len(self.settings)),
            [item for pair in self.settings.items() for item in pair],
        )
        return self

    def __exit__(self, *exc_info):
        if self.own_transaction:
            self.cursor.execute("ROLLBACK")
        else:
            self.cursor.execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")
            self.cursor.execute(f"RELEASE SAVEPOINT {_SAVEPOINT}")
        return False


def _outside_transaction(cursor) -> bool:
    """True for an autocommit psycopg connection with no transaction open (Django outside atomic)."""
    connection = getattr(cursor, "connection", None)  # Django's wrapper hands this to psycopg's cursor
    info = getattr(connection, "info", None)
    if info is None or not getattr(connection, "autocommit", False):
        return False
    return getattr(info.transaction_status, "name", "") == "IDLE"


def _table(name: str) -> str:
    if not _TABLE_NAME.fullmatch(name):
        raise ValueError(f"not a table name: {name!r}")
    return name


def _and(filter_sql: str) -> str:
    return f" AND ({filter_sql})" if filter_sql.strip() else ""
