"""nearest_chunks: the tenant-filtered nearest-neighbour query, on a scratch table of real PostgreSQL + pgvector.

Self-contained: a scratch database of the embedded server, not the Django test database.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import psycopg
import pytest
from pgvector.psycopg import register_vector

from apps.documents import vector_query
from apps.documents.vector_query import EXACT_SCAN_MAX_ROWS, index_nearest, nearest_chunks
from config.localstack import ensure_postgres

ROOT = Path(__file__).resolve().parents[2]
DATABASE = "registre_vector_test"
DIMS = 384
SMALL, MEDIUM, LARGE = 1, 2, 3
SIZES = {SMALL: 30, MEDIUM: 300, LARGE: 5_000}
NULL_EMBEDDINGS = {SMALL: 5, MEDIUM: 10, LARGE: 50}
HNSW_SETTINGS = ("hnsw.iterative_scan", "hnsw.ef_search", "hnsw.max_scan_tuples", "enable_sort")


def _unit(v):
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


class Data:
    """Clustered vectors: topics shared by the authorities, a weaker pull per authority, noise."""

    def __init__(self, seed=11):
        self.rng = np.random.default_rng(seed)
        self.topics = _unit(self.rng.standard_normal((12, DIMS)))
        self.tenants = {a: _unit(self.rng.standard_normal(DIMS)) for a in SIZES}

    def draw(self, authority, n):
        topic = self.topics[self.rng.integers(0, len(self.topics), n)]
        noise = self.rng.standard_normal((n, DIMS)) / np.sqrt(DIMS)
        return _unit(topic + 0.4 * self.tenants[authority] + 0.8 * noise).astype(np.float32)


@pytest.fixture(scope="module")
def url():
    pg = ensure_postgres(DATABASE)
    pg.psql("CREATE EXTENSION IF NOT EXISTS vector", database=DATABASE)
    return pg.url(user="postgres", database=DATABASE)


@pytest.fixture(scope="module")
def data():
    return Data()


@pytest.fixture(scope="module")
def table(url, data):
    """chunk_<pid>: the columns and indexes of documents_chunk that the query uses."""
    name = f"vector_query_chunk_{os.getpid()}"
    rows = {}  # id -> (authority, collection, has embedding)
    with psycopg.connect(url, autocommit=True) as conn:
        register_vector(conn)
        conn.execute(f"DROP TABLE IF EXISTS {name}")
        conn.execute(f"""CREATE TABLE {name} (
            id bigint PRIMARY KEY, authority_id bigint NOT NULL, document_id bigint NOT NULL,
            collection_id bigint NOT NULL, position integer NOT NULL, text text NOT NULL DEFAULT '',
            embedding vector({DIMS}))""")
        next_id = 1
        with conn.cursor().copy(
            f"COPY {name} (id, authority_id, document_id, collection_id, position, embedding) "
            "FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types(["int8", "int8", "int8", "int8", "int4", "vector"])
            for authority, size in SIZES.items():
                vectors = data.draw(authority, size)
                for i in range(size):
                    embedding = None if i < NULL_EMBEDDINGS[authority] else vectors[i]
                    collection = authority * 10 + i % 2
                    copy.write_row((next_id, authority, i // 10, collection, i % 10, embedding))
                    rows[next_id] = (authority, collection, embedding is not None)
                    next_id += 1
        conn.execute(f"CREATE INDEX {name}_tenant ON {name} (authority_id, document_id, position)")
        conn.execute(
            f"CREATE INDEX {name}_hnsw ON {name} USING hnsw (embedding vector_cosine_ops) "
            "WITH (m = 16, ef_construction = 64)"
        )
        conn.execute(f"VACUUM ANALYZE {name}")
    yield name, rows
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {name}")


@pytest.fixture
def conn(url):
    with psycopg.connect(url) as connection:  # not autocommit: every call runs inside a transaction
        yield connection
        connection.rollback()


def exact_ids(cursor, table, authority, vector, k=10, condition="", params=()):
    """Reference: a brute-force scan, the HNSW index switched off."""
    cursor.execute("SET LOCAL enable_indexscan = off")
    cursor.execute(
        f"SELECT id FROM {table} c WHERE authority_id = %s AND embedding IS NOT NULL {condition} "
        "ORDER BY embedding <=> %s::vector, id LIMIT %s",
        [authority, *params, vector_query.vector_literal(vector), k],
    )
    ids = [row[0] for row in cursor.fetchall()]
    cursor.execute("RESET enable_indexscan")
    return ids


def recall(found, truth):
    return len({row[0] for row in found} & set(truth)) / len(truth)


def test_small_authority_gets_the_exact_nearest_chunks_in_order(conn, table, data):
    name, _ = table
    cursor = conn.cursor()
    for vector in data.draw(SMALL, 10):
        found = nearest_chunks(cursor, authority_id=SMALL, query_vector=vector, table=name)
        assert [row[0] for row in found] == exact_ids(cursor, name, SMALL, vector)
        distances = [row[1] for row in found]
        assert distances == sorted(distances)
        assert all(isinstance(d, float) and 0 <= d <= 2 for d in distances)


def test_large_authority_keeps_recall_through_the_iterative_index_scan(conn, table, data):
    name, _ = table
    cursor = conn.cursor()
    scores = []
    for vector in data.draw(LARGE, 20):
        found = nearest_chunks(
            cursor, authority_id=LARGE, query_vector=vector, table=name, tenant_rows=EXACT_SCAN_MAX_ROWS + 1
        )  # forces the index plan at this size
        assert len(found) == 10
        scores.append(recall(found, exact_ids(cursor, name, LARGE, vector)))
    assert np.mean(scores) >= 0.9


def test_iterative_scan_finds_a_minority_authority_that_the_plain_index_scan_loses(conn, table, data):
    name, _ = table
    cursor = conn.cursor()
    iterative, plain = [], []
    for vector in data.draw(LARGE, 20):  # near the large authority's chunks: a post-filter finds few of ours
        truth = exact_ids(cursor, name, MEDIUM, vector)
        iterative.append(recall(index_nearest(cursor, authority_id=MEDIUM, query_vector=vector, table=name), truth))
        plain.append(
            len(
                index_nearest(
                    cursor, authority_id=MEDIUM, query_vector=vector, table=name, iterative_scan="off", ef_search=10
                )
            )
        )
    assert np.mean(iterative) >= 0.9
    assert np.mean(plain) < 10  # the post-filter drops most of the 10 nearest found: the index plan is in use


def test_index_plan_returns_nearest_first_beyond_the_first_few_rows(conn, table, data):
    """relaxed_order hands rows back roughly sorted; the re-sort must not be planned away."""
    name, _ = table
    for vector in data.draw(LARGE, 20):
        # with ef_search 40, 50 rows take several batches of the scan: about a third come back inverted
        found = index_nearest(conn.cursor(), authority_id=LARGE, query_vector=vector, k=50, table=name, ef_search=40)
        distances = [row[1] for row in found]
        assert len(found) == 50
        assert distances == sorted(distances)


@pytest.mark.parametrize("tenant_rows", [None, EXACT_SCAN_MAX_ROWS + 1], ids=["exact", "index"])
@pytest.mark.parametrize("authority", [SMALL, MEDIUM, LARGE])
def test_never_returns_another_authoritys_chunks(conn, table, data, authority, tenant_rows):
    name, rows = table
    for vector in data.draw(authority % 3 + 1, 5):  # queries drawn from another authority's data
        found = nearest_chunks(
            conn.cursor(), authority_id=authority, query_vector=vector, k=50, table=name, tenant_rows=tenant_rows
        )
        assert found
        assert {rows[chunk_id][0] for chunk_id, _ in found} == {authority}


@pytest.mark.parametrize("tenant_rows", [None, EXACT_SCAN_MAX_ROWS + 1], ids=["exact", "index"])
def test_filter_sql_is_honoured(conn, table, data, tenant_rows):
    name, rows = table
    cursor = conn.cursor()
    collection = LARGE * 10 + 1
    for vector in data.draw(LARGE, 5):
        found = nearest_chunks(
            cursor,
            authority_id=LARGE,
            query_vector=vector,
            table=name,
            tenant_rows=tenant_rows,
            filter_sql="c.collection_id = ANY(%s)",
            filter_params=[[collection]],
        )
        assert {rows[chunk_id][1] for chunk_id, _ in found} == {collection}
        truth = exact_ids(cursor, name, LARGE, vector, condition="AND c.collection_id = ANY(%s)", params=[[collection]])
        assert recall(found, truth) >= 0.8


def test_filter_matching_fewer_than_k_chunks_returns_all_of_them(conn, table, data):
    name, rows = table
    wanted = [chunk_id for chunk_id, (a, _, has_embedding) in rows.items() if a == LARGE and has_embedding][:3]
    found = nearest_chunks(
        conn.cursor(),
        authority_id=LARGE,
        query_vector=data.draw(LARGE, 1)[0],
        table=name,
        tenant_rows=EXACT_SCAN_MAX_ROWS + 1,
        filter_sql="c.id = ANY(%s)",
        filter_params=[wanted],
    )
    assert sorted(chunk_id for chunk_id, _ in found) == sorted(wanted)


def test_chunks_without_embedding_are_skipped(conn, table, data):
    name, rows = table
    found = nearest_chunks(conn.cursor(), authority_id=SMALL, query_vector=data.draw(SMALL, 1)[0], k=100, table=name)
    with_embedding = {i for i, (a, _, has_embedding) in rows.items() if a == SMALL and has_embedding}
    assert {chunk_id for chunk_id, _ in found} == with_embedding
    assert len(found) == SIZES[SMALL] - NULL_EMBEDDINGS[SMALL]


def _settings(cursor):
    cursor.execute("SELECT '[1]'::vector")  # loads pgvector, which declares the hnsw.* settings
    cursor.execute("SELECT " + ", ".join(["current_setting(%s, true)"] * len(HNSW_SETTINGS)), HNSW_SETTINGS)
    return cursor.fetchone()


def test_no_setting_leaks_into_the_rest_of_the_transaction(conn, table, data):
    name, _ = table
    cursor = conn.cursor()
    cursor.execute("SET LOCAL hnsw.ef_search = 77")  # the caller's own setting must survive too
    before = _settings(cursor)
    nearest_chunks(
        cursor, authority_id=LARGE, query_vector=data.draw(LARGE, 1)[0], table=name, tenant_rows=EXACT_SCAN_MAX_ROWS + 1
    )
    assert _settings(cursor) == before
    assert before[1] == "77"
    conn.rollback()
    assert _settings(cursor)[:2] != ("relaxed_order", str(vector_query.EF_SEARCH))


def test_autocommit_connection_gets_its_settings_and_loses_them_afterwards(url, table, data):
    name, _ = table
    vector = data.draw(MEDIUM, 1)[0]
    with psycopg.connect(url, autocommit=True) as autocommit:
        cursor = autocommit.cursor()
        before = _settings(cursor)
        found = index_nearest(cursor, authority_id=MEDIUM, query_vector=vector, table=name)
        assert len(found) == 10  # the iterative scan did run: the plain scan would lose most of them
        assert _settings(cursor) == before
        assert autocommit.info.transaction_status.name == "IDLE"


def test_works_through_djangos_cursor_wrapper(url, table, data, django_db_blocker):
    from django.db import connections

    name, _ = table
    alias = "vector_query_test"  # a connection to the scratch database, registered for this test only
    connections.settings[alias] = {
        **connections["default"].settings_dict,
        "NAME": DATABASE,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": str(ensure_postgres(DATABASE).socket_dir),
        "PORT": "",
    }
    wrapper = connections[alias]
    vector = data.draw(LARGE, 1)[0]
    with django_db_blocker.unblock():
        try:
            with wrapper.cursor() as cursor:  # autocommit, as Django outside atomic()
                outside = nearest_chunks(
                    cursor, authority_id=LARGE, query_vector=vector, table=name, tenant_rows=EXACT_SCAN_MAX_ROWS + 1
                )
            wrapper.set_autocommit(False)  # as inside atomic()
            with wrapper.cursor() as cursor:
                inside = nearest_chunks(
                    cursor,
                    authority_id=LARGE,
                    query_vector=vector.tolist(),
                    table=name,
                    tenant_rows=EXACT_SCAN_MAX_ROWS + 1,
                )
                assert _settings(cursor)[0] in (None, "off")
            wrapper.rollback()
        finally:
            wrapper.close()
            del connections[alias]
            del connections.settings[alias]
    assert len(outside) == 10
    assert [row[0] for row in inside] == [row[0] for row in outside]


def test_scale_benchmark_smoke_run_prints_its_table():
    command = [
        sys.executable,
        str(ROOT / "bench" / "scale" / "run.py"),
        "--smoke",
        "--drop",
        "--tag",
        f"pytest{os.getpid()}",
    ]  # its own table: concurrent runs do not collide
    result = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "recall" in result.stdout
    for strategy in ("naive HNSW post-filter", "exact scan", "iterative scan alone", "nearest_chunks"):
        assert strategy in result.stdout
    for size_class in ("small", "medium", "large"):
        assert f"\n{size_class} " in result.stdout
