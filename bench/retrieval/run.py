"""Retrieval quality on the real Avranches minutes: recall@5, recall@10 and MRR@10 for full-text,
vector and hybrid search, on one authority's corpus and on a corpus mixed with other authorities.

    .venv/bin/python bench/retrieval/run.py            # full evaluation set (~1 min the first time)
    .venv/bin/python bench/retrieval/run.py --smoke    # 1 document and its questions, for CI
"""

import argparse
import json
import os
import re
import sys
import time
import unicodedata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.common import ROOT, SHARED_DATA, authority, index_files, setup_django

EVAL_SET = Path(__file__).with_name("eval_set.json")
MINUTES = SHARED_DATA / "proces-verbaux"
MODES = ("fulltext", "vector", "hybrid")


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower().replace("’", "'")
    text = re.sub(r"-\s*\n\s*", "", text)  # words hyphenated across lines, as extraction joins them
    return re.sub(r"\s+", " ", text).strip()


def is_relevant(hit_text: str, quotes: list[str]) -> bool:
    """The chunk holds the answer if it contains either half of a quote (chunks may cut a quote)."""
    chunk = normalise(hit_text)
    for quote in quotes:
        q = normalise(quote)
        half = max(len(q) // 2, 20)
        if q[:half] in chunk or q[-half:] in chunk:
            return True
    return False


def load_questions(smoke: bool):
    questions = json.loads(EVAL_SET.read_text())["questions"]
    answerable = [q for q in questions if q["answerable"]]
    for q in answerable:
        q["documents"] = q["document"] if isinstance(q["document"], list) else [q["document"]]
        q["quotes"] = q["answer_quote"] if isinstance(q["answer_quote"], list) else [q["answer_quote"]]
    if smoke:
        files = sorted({d for q in answerable for d in q["documents"]})[:1]
        answerable = [q for q in answerable if set(q["documents"]) <= set(files)]
    return answerable, [q for q in questions if not q["answerable"]]


def build_corpus(smoke: bool, answerable, mixed: bool):
    """Authority « avranches » holds the minutes; the mixed corpus adds two other authorities."""
    from apps.documents.models import Document
    from apps.tenants.context import tenant_context

    files = (
        sorted({d for q in answerable for d in q["documents"]})
        if smoke
        else sorted(p.name for p in MINUTES.glob("*.txt"))
    )
    main = authority("bench-avranches", "Ville d'Avranches (banc d'essai)")
    with tenant_context(main.pk):
        Document.objects.exclude(state=Document.State.INDEXED).delete()  # left by an interrupted run
        missing = [f for f in files if not Document.objects.filter(original_filename=f).exists()]
    if missing:
        index_files(main, [MINUTES / f for f in missing], kind=Document.Kind.PROCES_VERBAL)
    if not mixed:
        return main, []
    others = [
        authority("bench-couthenans", "Commune de Couthenans (banc d'essai)"),
        authority("bench-fiches", "Intercommunalité fictive (banc d'essai)"),
    ]
    distractors = {
        others[0]: sorted((SHARED_DATA / "pdf-couthenans").glob("*.pdf"))[: 2 if smoke else None],
        others[1]: fiche_files(5 if smoke else 150),
    }
    for other, paths in distractors.items():
        with tenant_context(other.pk):
            known = set(Document.objects.values_list("original_filename", flat=True))
        todo = [p for p in paths if p.name not in known]
        if todo:
            index_files(other, todo)
    return main, others


def fiche_files(count: int) -> list[Path]:
    """service-public.fr fiches (JSON in shared/) written out as text files, to be uploaded."""
    folder = ROOT / "var" / "bench-fiches"
    folder.mkdir(parents=True, exist_ok=True)
    fiches = json.loads((SHARED_DATA / "fiches" / "service-public-fiches-travail-2018-06.json").read_text())
    fiches = [fiche for fiche in fiches if fiche.get("text")]  # some entries are folders, without text
    paths = []
    for number, fiche in enumerate(fiches[:count], start=1):
        path = folder / f"fiche-{number:03d}.txt"
        if not path.exists():
            text = re.sub(r"[ \t]*\n\s*", "\n", fiche["text"]).strip()
            path.write_text(f"{fiche['ariane'][-1]}\n\n{text}\n")
        paths.append(path)
    return paths


def evaluate(main, questions, mode: str, k: int = 10):
    from apps.documents.models import Document
    from apps.documents.search import search
    from apps.tenants.context import tenant_context

    with tenant_context(main.pk):
        names = dict(Document.objects.values_list("pk", "original_filename"))
    recall5 = recall10 = rr = 0.0
    latencies = []
    for q in questions:
        started = time.perf_counter()
        with tenant_context(main.pk):
            hits = search(authority_id=main.pk, query=q["question"], mode=mode, limit=k, with_facets=False).hits
        latencies.append(time.perf_counter() - started)
        rank = next(
            (
                i
                for i, h in enumerate(hits, start=1)
                if names.get(h.document_id) in q["documents"] and is_relevant(h.text, q["quotes"])
            ),
            None,
        )
        recall5 += rank is not None and rank <= 5
        recall10 += rank is not None and rank <= 10
        rr += 1 / rank if rank else 0
    n = len(questions) or 1
    latencies.sort()
    return {
        "recall@5": recall5 / n,
        "recall@10": recall10 / n,
        "mrr@10": rr / n,
        "p50_ms": 1000 * latencies[len(latencies) // 2] if latencies else 0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="1 document and its questions (CI)")
    parser.add_argument("--corpus", choices=["single", "mixed", "both"], default="both")
    args = parser.parse_args()
    if args.corpus == "both":  # one database each: Django is set up once per process
        import subprocess

        for corpus in ("single", "mixed"):
            command = [sys.executable, __file__, "--corpus", corpus] + (["--smoke"] if args.smoke else [])
            if subprocess.run(command, check=False).returncode:
                return 1
        return 0
    mixed = args.corpus == "mixed"
    chunking = f"c{os.environ.get('CHUNK_MAX_TOKENS', '480')}"
    prefix = f"registre_bench_{'smoke_' if args.smoke else ''}{chunking}_"
    setup_django(prefix + args.corpus, copy_of=prefix + "single" if mixed else "")
    answerable, unanswerable = load_questions(args.smoke)
    started = time.perf_counter()
    main_authority, others = build_corpus(args.smoke, answerable, mixed)
    from apps.documents.embeddings import get_embedder
    from apps.documents.models import Chunk
    from apps.tenants.context import tenant_context

    with tenant_context(main_authority.pk):
        own = Chunk.objects.count()
    with tenant_context(platform_staff=True):
        total = Chunk.all_tenants.count()
    label = f"avranches + {len(others)} others" if mixed else "avranches alone"
    print(
        f"\n[{label}] corpus ready in {time.perf_counter() - started:.1f}s; {len(answerable)} answerable "
        f"questions ({len(unanswerable)} unanswerable ones serve the abstention benchmark); "
        f"embedder {get_embedder().model_id}; {own} chunks of the evaluated authority, {total} in the index"
    )
    print(f"{'corpus':<24}{'mode':<10}{'recall@5':>10}{'recall@10':>11}{'MRR@10':>9}{'p50 ms':>9}")
    for mode in MODES:
        scores = evaluate(main_authority, answerable, mode)
        print(
            f"{label:<24}{mode:<10}{scores['recall@5']:>10.3f}{scores['recall@10']:>11.3f}"
            f"{scores['mrr@10']:>9.3f}{scores['p50_ms']:>9.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
