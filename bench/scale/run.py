"""Tenant-filtered vector search at scale: recall@k and latency of four query plans per tenant size.

Builds (once, cached by parameters) a chunk table shaped like documents_chunk in the `bench_scale`
database of the embedded PostgreSQL, then compares the naive HNSW post-filter, the exact scan, the
iterative index scan alone and `apps.documents.vector_query.nearest_chunks`. See README.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import struct
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import psycopg

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from apps.documents import vector_query  # noqa: E402
from config.localstack import ensure_postgres  # noqa: E402

DIMS = 384
GENERATOR_VERSION = 2
# Weights of the parts of a synthetic embedding: topics are shared by all authorities, the
# authority's own direction is a weaker pull, and documents and chunks add their own noise.
THEMES, W_TOPIC = 20, 0.7
W_TENANT, W_DOCUMENT, W_CHUNK = 0.4, 0.7, 0.6
COLLECTIONS_PER_TENANT = 5
MEAN_CHUNKS_PER_DOCUMENT = 12
WORDS = [  # vocabulary of the filler text (only its length and compressibility matter)
    "conseil",
    "municipal",
    "délibération",
    "budget",
    "commune",
    "maire",
    "adjoint",
    "séance",
    "ordre",
    "du",
    "jour",
    "vote",
    "unanimité",
    "subvention",
    "association",
    "école",
    "cantine",
    "voirie",
    "travaux",
    "marché",
    "public",
    "urbanisme",
    "permis",
    "de",
    "construire",
    "plan",
    "local",
    "assainissement",
    "eau",
    "potable",
    "intercommunalité",
    "taxe",
    "foncière",
    "tarif",
    "salle",
    "des",
    "fêtes",
    "personnel",
    "territorial",
    "emploi",
    "saisonnier",
    "cimetière",
    "concession",
    "église",
    "patrimoine",
    "bibliothèque",
    "transport",
    "scolaire",
    "périscolaire",
    "crèche",
    "déchets",
    "collecte",
    "tri",
    "recyclage",
    "éclairage",
    "énergie",
    "rénovation",
    "bâtiment",
    "communal",
    "accessibilité",
    "sécurité",
    "police",
    "stationnement",
    "environnement",
    "forêt",
    "agriculture",
    "tourisme",
    "camping",
    "sport",
    "stade",
    "gymnase",
    "culture",
    "fête",
    "locale",
    "jumelage",
    "aide",
    "sociale",
    "CCAS",
    "logement",
    "social",
    "lotissement",
    "acquisition",
    "cession",
    "parcelle",
    "emprunt",
    "investissement",
    "fonctionnement",
    "compte",
    "administratif",
    "décision",
    "modificative",
    "amortissement",
    "convention",
    "avenant",
    "préfecture",
]


@dataclass(frozen=True)
class Params:
    rows: int
    tenants: int
    zipf: float
    zipf_offset: float
    topics: int
    text_chars: int
    null_fraction: float
    seed: int
    version: int = GENERATOR_VERSION
    embedding_storage: str = "plain"  # as documents_chunk (migration 0002): vectors stay in the heap

    @property
    def table(self) -> str:
        digest = hashlib.sha1(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:10]
        return f"chunk_{self.rows}_{self.tenants}_{digest}"


def tenant_sizes(p: Params) -> np.ndarray:
    """Rows per tenant (tenant i+1 is rank i+1), Zipf-Mandelbrot: size ~ 1 / (rank + offset) ** exponent."""
    weights = (np.arange(1, p.tenants + 1) + p.zipf_offset) ** -p.zipf
    sizes = np.maximum(1, np.floor(p.rows * weights / weights.sum())).astype(np.int64)
    sizes[0] += p.rows - sizes.sum()
    return sizes


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


class Embeddings:
    """The generative model shared by data and queries (derived from the seed only).

    Real text embeddings are anisotropic (a few dozen directions carry most of the variance) and
    their topics are related, not orthogonal: isotropic noise around unrelated centroids makes
    islands that HNSW itself cannot navigate. So every part is drawn from one anisotropic Gaussian
    (power-law spectrum, effective dimension ~26), and topics are variations of a few themes.
    """

    def __init__(self, p: Params):
        rng = np.random.default_rng([p.seed, 0])
        rotation, _ = np.linalg.qr(rng.standard_normal((DIMS, DIMS)))
        spectrum = 1 / np.sqrt(np.arange(1, DIMS + 1))
        self.basis = (spectrum / np.linalg.norm(spectrum))[:, None] * rotation.T  # rows: scaled directions
        themes = self.sample(rng, THEMES)
        self.topics = _unit(themes[rng.integers(0, THEMES, p.topics)] + W_TOPIC * self.sample(rng, p.topics))
        self.tenants = self.sample(rng, p.tenants)
        self.mixtures = rng.dirichlet(np.full(p.topics, 0.3), size=p.tenants)

    def sample(self, rng, n: int) -> np.ndarray:
        """n draws of the anisotropic Gaussian, expected squared norm 1."""
        return rng.standard_normal((n, DIMS)) @ self.basis

    def draw(self, rng, tenant_index: np.ndarray, topic: np.ndarray, document_noise: np.ndarray) -> np.ndarray:
        v = (
            self.topics[topic]
            + W_TENANT * self.tenants[tenant_index]
            + W_DOCUMENT * document_noise
            + W_CHUNK * self.sample(rng, len(topic))
        )
        return _unit(v).astype(np.float32)

    def queries(self, rng, tenant_index: np.ndarray, docs: dict[str, np.ndarray]) -> np.ndarray:
        """Fresh chunks on the topic of a random chunk of the tenant: queries distributed like its data."""
        topic = []
        for t in tenant_index:
            own = np.flatnonzero(docs["tenant"] == t)
            weights = docs["length"][own] / docs["length"][own].sum()
            topic.append(docs["topic"][rng.choice(own, p=weights)])
        return self.draw(rng, tenant_index, np.array(topic), self.sample(rng, len(topic)))


# --- build -----------------------------------------------------------------------------------------

PREFIX = np.dtype(
    [
        ("n", ">i2"),
        ("l1", ">i4"),
        ("id", ">i8"),
        ("l2", ">i4"),
        ("authority", ">i8"),
        ("l3", ">i4"),
        ("document", ">i8"),
        ("l4", ">i4"),
        ("collection", ">i8"),
        ("l5", ">i4"),
        ("position", ">i4"),
    ]
)
VECTOR = np.dtype([("length", ">i4"), ("dim", ">i2"), ("unused", ">i2"), ("v", ">f4", (DIMS,))])
NULL_FIELD = struct.pack(">i", -1)


def _documents(p: Params, rng, mixtures: np.ndarray) -> dict[str, np.ndarray]:
    """Documents of every tenant, in the (shuffled) order they are inserted: ingestion interleaves tenants."""
    tenant, length, topic = [], [], []
    for index, size in enumerate(tenant_sizes(p)):
        lengths = rng.geometric(1 / MEAN_CHUNKS_PER_DOCUMENT, size=int(size // MEAN_CHUNKS_PER_DOCUMENT * 2 + 8))
        ends = np.cumsum(lengths)
        count = int(np.searchsorted(ends, size)) + 1
        lengths = lengths[:count]
        lengths[-1] -= ends[count - 1] - size
        tenant.append(np.full(count, index))
        length.append(lengths)
        topic.append(rng.choice(p.topics, size=count, p=mixtures[index]))
    order = rng.permutation(sum(len(t) for t in tenant))
    docs = {
        "tenant": np.concatenate(tenant)[order],
        "length": np.concatenate(length)[order],
        "topic": np.concatenate(topic)[order],
    }
    docs["collection"] = docs["tenant"] * COLLECTIONS_PER_TENANT + rng.integers(
        1, COLLECTIONS_PER_TENANT + 1, size=len(order)
    )
    return docs


def _text_pool(rng, chars: int, size: int = 997) -> list[bytes]:
    pool = []
    for _ in range(size):
        text = " ".join(rng.choice(WORDS, size=chars // 5 + 10))[:chars].encode()
        pool.append(struct.pack(">i", len(text)) + text)
    return pool


def load(conn, p: Params, table: str, batch_rows: int = 20_000) -> None:
    model = Embeddings(p)
    rng = np.random.default_rng([p.seed, 1])
    docs = _documents(p, rng, model.mixtures)
    texts = _text_pool(rng, p.text_chars)
    starts = np.concatenate([[0], np.cumsum(docs["length"])])
    next_id, first_doc = 1, 0
    with (
        conn.cursor() as cur,
        cur.copy(
            f"COPY {table} (id, authority_id, document_id, collection_id, position, text, embedding) "
            "FROM STDIN (FORMAT BINARY)"
        ) as copy,
    ):
        copy.write(b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0))
        while first_doc < len(docs["length"]):
            last_doc = int(np.searchsorted(starts, starts[first_doc] + batch_rows))
            last_doc = min(max(last_doc, first_doc + 1), len(docs["length"]))
            lengths = docs["length"][first_doc:last_doc]
            n = int(lengths.sum())
            per_row = np.repeat(np.arange(first_doc, last_doc), lengths)
            noise = model.sample(rng, last_doc - first_doc)
            vectors = model.draw(rng, docs["tenant"][per_row], docs["topic"][per_row], noise[per_row - first_doc])
            prefix = np.zeros(n, PREFIX)
            prefix["n"] = 7
            for length_field, size in (("l1", 8), ("l2", 8), ("l3", 8), ("l4", 8), ("l5", 4)):
                prefix[length_field] = size
            ids = np.arange(next_id, next_id + n)
            prefix["id"], prefix["authority"] = ids, docs["tenant"][per_row] + 1
            prefix["document"], prefix["collection"] = per_row + 1, docs["collection"][per_row]
            prefix["position"] = np.arange(n) - np.repeat(np.cumsum(lengths) - lengths, lengths)
            packed = np.zeros(n, VECTOR)
            packed["length"], packed["dim"], packed["v"] = 4 + 4 * DIMS, DIMS, vectors
            nulls = rng.random(n) < p.null_fraction
            prefix_bytes, vector_bytes = prefix.tobytes(), packed.tobytes()
            out = bytearray()
            for i in range(n):
                out += prefix_bytes[i * PREFIX.itemsize : (i + 1) * PREFIX.itemsize]
                out += texts[int(ids[i]) % len(texts)]
                out += NULL_FIELD if nulls[i] else vector_bytes[i * VECTOR.itemsize : (i + 1) * VECTOR.itemsize]
            copy.write(out)
            next_id += n
            first_doc = last_doc
        copy.write(struct.pack(">h", -1))


def _watch_index_build(url: str, stop: threading.Event) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        while not stop.wait(60):
            row = conn.execute(
                "SELECT phase, tuples_done, tuples_total, blocks_done, blocks_total FROM pg_stat_progress_create_index"
            ).fetchone()
            if row:
                print(f"    … {row[0]}: tuples {row[1]}/{row[2]}, blocks {row[3]}/{row[4]}", flush=True)


def build(url: str, p: Params, table: str, *, maintenance_work_mem: str, build_workers: int) -> None:
    """Create and fill the table unless a complete build with these parameters exists."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_builds (name text PRIMARY KEY, params jsonb NOT NULL, "
            "phases jsonb NOT NULL DEFAULT '{}')"
        )
        row = conn.execute(
            "SELECT phases FROM bench_builds WHERE name = %s AND to_regclass(%s) IS NOT NULL", [table, table]
        ).fetchone()
        phases: dict = row[0] if row else {}
        if "hnsw" in phases:
            print(f"Dataset {table} already built ({_phases_text(phases)}); build skipped.")
            return

        def phase(name: str, *statements: str) -> None:
            if name in phases:
                return
            print(f"  {name}…", flush=True)
            started = time.perf_counter()
            for statement in statements:
                conn.execute(statement)
            phases[name] = round(time.perf_counter() - started, 1)
            conn.execute("UPDATE bench_builds SET phases = %s WHERE name = %s", [json.dumps(phases), table])
            print(f"  {name}: {phases[name]} s", flush=True)

        print(f"Building {table}: {p}")
        conn.execute(f"SET maintenance_work_mem = '{maintenance_work_mem}'")
        conn.execute(f"SET max_parallel_maintenance_workers = {int(build_workers)}")
        if "load" not in phases:
            phases = {}
            conn.execute(
                "INSERT INTO bench_builds (name, params) VALUES (%s, %s) ON CONFLICT (name) "
                "DO UPDATE SET params = excluded.params, phases = '{}'",
                [table, json.dumps(asdict(p))],
            )
            conn.execute(f"DROP TABLE IF EXISTS {table}")
            # Unlogged: no WAL for a throw-away bench table; it does not change how queries run.
            conn.execute(f"""CREATE UNLOGGED TABLE {table} (
                id bigint NOT NULL, authority_id bigint NOT NULL, document_id bigint NOT NULL,
                collection_id bigint NOT NULL, position integer NOT NULL, text text NOT NULL,
                embedding vector({DIMS}), embedding_model varchar(120)
            ) WITH (autovacuum_enabled = false)""")
            conn.execute(f"ALTER TABLE {table} ALTER COLUMN embedding SET STORAGE {p.embedding_storage.upper()}")
            started = time.perf_counter()
            print("  load (generate + COPY binary)…", flush=True)
            with conn.transaction():
                load(conn, p, table)
            phases["load"] = round(time.perf_counter() - started, 1)
            conn.execute("UPDATE bench_builds SET phases = %s WHERE name = %s", [json.dumps(phases), table])
            print(f"  load: {phases['load']} s", flush=True)
        phase(
            "btree",
            f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {table}_pkey",
            f"ALTER TABLE {table} ADD PRIMARY KEY (id)",
            f"DROP INDEX IF EXISTS {table}_tenant",
            f"CREATE INDEX {table}_tenant ON {table} (authority_id, document_id, position)",
        )
        phase("vacuum_analyze", f"VACUUM (ANALYZE) {table}")
        stop = threading.Event()
        watcher = threading.Thread(target=_watch_index_build, args=(url, stop), daemon=True)
        watcher.start()
        try:
            phase(
                "hnsw",
                f"DROP INDEX IF EXISTS {table}_hnsw",
                f"CREATE INDEX {table}_hnsw ON {table} USING hnsw (embedding vector_cosine_ops) "
                "WITH (m = 16, ef_construction = 64)",
            )
        finally:
            stop.set()
        print(f"Built {table}: {_phases_text(phases)}")
        sizes = conn.execute(f"""SELECT pg_size_pretty(pg_relation_size('{table}')),
            pg_size_pretty(pg_total_relation_size(reltoastrelid)), pg_size_pretty(pg_relation_size('{table}_hnsw'))
            FROM pg_class WHERE oid = '{table}'::regclass""").fetchone()
        print(f"Sizes: heap {sizes[0]}, TOAST {sizes[1]}, HNSW index {sizes[2]}")


def _phases_text(phases: dict) -> str:
    order = ["load", "btree", "vacuum_analyze", "hnsw"]
    return ", ".join(f"{name} {phases[name]} s" for name in order if name in phases)


# --- measure ---------------------------------------------------------------------------------------


def size_classes(p: Params, small_max: int, large_min: int, per_class: int) -> list[tuple[str, list[int]]]:
    """Up to `per_class` tenants (0-based ranks) per class, spread over the class's size range."""
    sizes = tenant_sizes(p)
    bounds = [("small", 1, small_max), ("medium", small_max + 1, large_min - 1), ("large", large_min, p.rows)]
    classes = []
    for name, low, high in bounds:
        members = [int(t) for t in np.flatnonzero((sizes >= low) & (sizes <= high))]
        spread = np.linspace(0, len(members) - 1, per_class) if members else []
        picks = sorted({members[round(i)] for i in spread})
        classes.append((name, picks))
    return classes


def strategies(table: str, k: int):
    common = {"table": table, "k": k}
    return {
        "a. naive HNSW post-filter": lambda cur, a, q: vector_query.index_nearest(
            cur, authority_id=a, query_vector=q, iterative_scan="off", ef_search=40, **common
        ),
        "b. exact scan": lambda cur, a, q: vector_query.exact_nearest(cur, authority_id=a, query_vector=q, **common),
        "c. iterative scan alone": lambda cur, a, q: vector_query.index_nearest(
            cur, authority_id=a, query_vector=q, **common
        ),
        "d. nearest_chunks": lambda cur, a, q: vector_query.nearest_chunks(
            cur, authority_id=a, query_vector=q, **common
        ),
    }


def measure(
    url: str,
    p: Params,
    table: str,
    *,
    queries: int,
    k: int,
    small_max: int,
    large_min: int,
    per_class: int,
    per_tenant: bool,
) -> list[dict]:
    """Each strategy gets its own queries (same tenants, same distribution), so that none of them
    is timed on index and heap pages that another strategy has just read for the same query."""
    model, sizes = Embeddings(p), tenant_sizes(p)
    docs = _documents(p, np.random.default_rng([p.seed, 1]), model.mixtures)  # the same draws as load()
    plans = strategies(table, k)
    results = []
    with psycopg.connect(url) as conn:
        for class_index, (class_name, tenants) in enumerate(size_classes(p, small_max, large_min, per_class)):
            if not tenants:
                results.append({"class": class_name, "tenants": [], "rows": (0, 0), "by_plan": {}})
                continue
            authority = np.array([tenants[i % len(tenants)] for i in range(queries)]) + 1
            for i, vector in enumerate(
                model.queries(np.random.default_rng([p.seed, 3, class_index]), authority[:10] - 1, docs)
            ):  # warm-up, not timed
                for plan in plans.values():
                    with conn.transaction():
                        plan(conn.cursor(), int(authority[i]), vector)
            vectors = model.queries(
                np.random.default_rng([p.seed, 2, class_index]), np.tile(authority - 1, len(plans)), docs
            )
            literals = {
                name: [vector_query.vector_literal(v) for v in vectors[j * queries : (j + 1) * queries]]
                for j, name in enumerate(plans)
            }
            with conn.transaction():  # ground truth first: no timed query runs right after its exact scan
                truths = {
                    name: [
                        {
                            row[0]
                            for row in vector_query.exact_nearest(
                                conn.cursor(), authority_id=int(authority[i]), query_vector=literal, k=k, table=table
                            )
                        }
                        for i, literal in enumerate(literals[name])
                    ]
                    for name in plans
                }
            samples = {name: [] for name in plans}
            names = list(plans)
            for i in range(queries):
                for name in names[i % len(names) :] + names[: i % len(names)]:  # rotate: spread the noise
                    started = time.perf_counter()
                    with conn.transaction():
                        found = plans[name](conn.cursor(), int(authority[i]), literals[name][i])
                    elapsed = (time.perf_counter() - started) * 1000
                    truth = truths[name][i]
                    recall = len({row[0] for row in found} & truth) / max(1, len(truth))
                    samples[name].append((int(authority[i]), recall, elapsed))
            by_tenant = (
                {
                    name: {a: _summary([x for x in xs if x[0] == a]) for a in sorted({x[0] for x in xs})}
                    for name, xs in samples.items()
                }
                if per_tenant
                else {}
            )
            results.append(
                {
                    "class": class_name,
                    "tenants": [t + 1 for t in tenants],
                    "rows": (int(sizes[tenants].min()), int(sizes[tenants].max())),
                    "by_plan": {name: _summary(xs) for name, xs in samples.items()},
                    "by_tenant": by_tenant,
                }
            )
    return results


def _summary(samples: list[tuple[int, float, float]]) -> dict:
    latencies = sorted(s[2] for s in samples)
    p95 = latencies[min(len(latencies) - 1, int(np.ceil(0.95 * len(latencies))) - 1)]
    return {
        "recall": statistics.fmean(s[1] for s in samples),
        "min_recall": min(s[1] for s in samples),
        "p50": statistics.median(latencies),
        "p95": p95,
        "n": len(samples),
    }


def print_table(results: list[dict], k: int, sizes: np.ndarray) -> None:
    print(f"\nRecall@{k} against exact search, latency per query (ms, client side, incl. transaction)")
    header = (
        f"{'class':<7} {'tenants (rows)':<22} {'strategy':<27} {'recall':>7} {'min':>5} {'p50 ms':>7} {'p95 ms':>7}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        where = f"{len(r['tenants'])} ({r['rows'][0]}–{r['rows'][1]})" if r["tenants"] else "none"
        if not r["by_plan"]:
            print(f"{r['class']:<7} {where:<22} {'(no tenant in this class)':<27}")
        for i, (name, s) in enumerate(r["by_plan"].items()):
            print(
                f"{r['class'] if i == 0 else '':<7} {where if i == 0 else '':<22} {name:<27} "
                f"{s['recall']:>7.3f} {s['min_recall']:>5.2f} {s['p50']:>7.2f} {s['p95']:>7.2f}"
            )
        for name, by_tenant in r.get("by_tenant", {}).items():
            for authority, s in by_tenant.items():
                print(
                    f"{'':<7} {'  tenant ' + str(authority) + ' (' + str(sizes[authority - 1]) + ')':<22} "
                    f"{name:<27} {s['recall']:>7.3f} {s['min_recall']:>5.2f} {s['p50']:>7.2f} {s['p95']:>7.2f}"
                )
    print(
        f"\nnearest_chunks plan: exact scan up to EXACT_SCAN_MAX_ROWS={vector_query.EXACT_SCAN_MAX_ROWS} rows, "
        f"else iterative scan ({vector_query.ITERATIVE_SCAN}, ef_search={vector_query.EF_SEARCH}, "
        f"max_scan_tuples={vector_query.MAX_SCAN_TUPLES}) with exact fallback when it finds fewer than k."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--tenants", type=int, default=1_000)
    parser.add_argument("--queries", type=int, default=50, help="queries per size class")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--zipf", type=float, default=1.5, help="exponent s of size ~ 1/(rank+offset)^s")
    parser.add_argument("--zipf-offset", type=float, default=5.0)
    parser.add_argument("--topics", type=int, default=200)
    parser.add_argument("--text-chars", type=int, default=1200)
    parser.add_argument("--null-fraction", type=float, default=0.005)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--embedding-storage",
        choices=["plain", "extended"],
        default="plain",
        help="column storage of the embedding (plain keeps it out of TOAST)",
    )
    parser.add_argument("--small-max", type=int, default=1_000, help="largest tenant of the small class (rows)")
    parser.add_argument("--large-min", type=int, default=20_000, help="smallest tenant of the large class (rows)")
    parser.add_argument("--per-class", type=int, default=5, help="tenants sampled per size class")
    parser.add_argument("--per-tenant", action="store_true", help="also print one line per tenant")
    parser.add_argument("--exact-scan-max-rows", type=int, help="override vector_query.EXACT_SCAN_MAX_ROWS")
    parser.add_argument("--database", default="bench_scale")
    parser.add_argument("--maintenance-work-mem", default="8GB")
    parser.add_argument("--build-workers", type=int, default=1, help="parallel maintenance workers (+ leader)")
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--drop", action="store_true", help="drop the table afterwards (no cache)")
    parser.add_argument("--tag", default="", help="suffix of the table name (isolates concurrent runs)")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny run for CI: 20,000 rows, 50 tenants, 10 queries per class, scaled classes",
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.rows, args.tenants, args.queries, args.per_class = 20_000, 50, 10, 3
        args.small_max, args.large_min, args.maintenance_work_mem = 200, 1_000, "256MB"
        args.exact_scan_max_rows = args.exact_scan_max_rows or 500
    if args.exact_scan_max_rows is not None:
        vector_query.EXACT_SCAN_MAX_ROWS = args.exact_scan_max_rows
    p = Params(
        rows=args.rows,
        tenants=args.tenants,
        zipf=args.zipf,
        zipf_offset=args.zipf_offset,
        topics=args.topics,
        text_chars=args.text_chars,
        null_fraction=args.null_fraction,
        seed=args.seed,
        embedding_storage=args.embedding_storage,
    )
    url = ensure_postgres(args.database).url(user="postgres", database=args.database)
    sizes = tenant_sizes(p)
    print(
        f"{p.rows} rows, {p.tenants} tenants, sizes ~ 1/(rank+{p.zipf_offset:g})^{p.zipf:g}: "
        f"largest {sizes[0]}, median {int(np.median(sizes))}, smallest {sizes[-1]}, "
        f"{int((sizes < 100).sum())} tenants under 100 rows"
    )
    started = time.perf_counter()
    if not args.tag.isalnum() and args.tag:
        parser.error("--tag: letters and digits only")
    table = f"{p.table}_{args.tag}" if args.tag else p.table
    build(url, p, table, maintenance_work_mem=args.maintenance_work_mem, build_workers=args.build_workers)
    print(f"Build step: {time.perf_counter() - started:.1f} s")
    try:
        if not args.build_only:
            started = time.perf_counter()
            results = measure(
                url,
                p,
                table,
                queries=args.queries,
                k=args.k,
                small_max=args.small_max,
                large_min=args.large_min,
                per_class=args.per_class,
                per_tenant=args.per_tenant,
            )
            print_table(results, args.k, sizes)
            print(f"Query phase: {time.perf_counter() - started:.1f} s")
    finally:
        if args.drop:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f"DROP TABLE IF EXISTS {table}")
                conn.execute("DELETE FROM bench_builds WHERE name = %s", [table])
    return 0


if __name__ == "__main__":
    sys.exit(main())
