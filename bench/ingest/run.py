"""Ingestion throughput, end to end with the local embedder: the 29 Avranches minutes (text) and the
11 Couthenans PDFs, through the real pipeline (upload → job → extract → chunk → embed → index).

    .venv/bin/python bench/ingest/run.py

Prints documents/min, chunks/s and the share of time spent outside embedding.
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.common import SHARED_DATA, authority, index_files, setup_django


def main() -> int:
    setup_django("registre_bench_ingest")
    from apps.documents import embeddings
    from apps.documents.models import Chunk, Document
    from apps.tenants.context import tenant_context

    embedder = embeddings.get_embedder()
    embedder.embed_passages(["échauffement"])  # load the model outside the measurement
    embedding_seconds = 0.0
    original = embedder.embed_passages

    def timed_embed(texts):
        nonlocal embedding_seconds
        started = time.perf_counter()
        try:
            return original(texts)
        finally:
            embedding_seconds += time.perf_counter() - started

    embedder.embed_passages = timed_embed
    target = authority(f"bench-ingest-{int(time.time())}", "Banc d'essai d'ingestion")  # fresh: no dedup
    files = sorted((SHARED_DATA / "proces-verbaux").glob("*.txt")) + sorted(
        (SHARED_DATA / "pdf-couthenans").glob("*.pdf")
    )
    started = time.perf_counter()
    documents = index_files(target, files)
    elapsed = time.perf_counter() - started
    with tenant_context(target.pk):
        states = list(Document.objects.values_list("state", flat=True))
        chunks = Chunk.objects.count()
        pages = sum(Document.objects.values_list("page_count", flat=True))
    failed = len([s for s in states if s != "indexed"])
    print(f"embedder: {embedder.model_id}")
    print(f"documents: {len(documents)} ({failed} failed), pages: {pages}, chunks: {chunks}")
    print(f"total: {elapsed:.1f} s; embedding: {embedding_seconds:.1f} s")
    print(f"throughput: {60 * len(documents) / elapsed:.1f} documents/min, {chunks / elapsed:.1f} chunks/s")
    print(f"share of time outside embedding: {100 * (elapsed - embedding_seconds) / elapsed:.1f} % (target <= 20 %)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
