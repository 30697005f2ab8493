"""Subject routing on real deliberations: top-1 / top-3 accuracy of the @ctes matière at level 1 and 2,
by repeated stratified k-fold cross-validation over the 152 rows of the Rennes extract, for every method
of `apps.deliberations.routing.classifier`, with calibration, a learning curve, timings and a transfer test.

    .venv/bin/python bench/routing/run.py            # 5 repeats of 5-fold CV (~1 min the first time)
    .venv/bin/python bench/routing/run.py --smoke    # 1 repeat of 3 folds, a few methods, for CI

Embeddings are cached under /tmp/registre-bench-routing/ (the repository does not ignore bench caches).
"""

import argparse
import csv
import hashlib
import itertools
import json
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.common import SHARED_DATA, setup_django

RENNES = SHARED_DATA / "scdl" / "deliberations-ville-de-rennes-extrait-152.json"
SAINT_ETIENNE = SHARED_DATA / "scdl" / "deliberations-saint-etienne-metropole-2022.csv"
CACHE = Path(os.environ.get("ROUTING_BENCH_CACHE") or Path(tempfile.gettempdir()) / "registre-bench-routing")
SAFE = 0.8  # the « Accepter les suggestions sûres » threshold of the Classement page
SMOKE_METHODS = ("majority", "prior", "logreg+prior")


# --- data -------------------------------------------------------------------------------------------


def load_rennes() -> list[dict]:
    """Rows with their true level-2 code, resolved from the label: the JSON number 7.1 is 7.1 or 7.10."""
    from apps.deliberations import nomenclature

    rows = []
    for row in json.loads(RENNES.read_text()):
        matiere = nomenclature.match_label(row["delib_matiere_nom"])
        candidates = nomenclature.candidates_for_number(row["delib_matiere_code"])
        if matiere is None or matiere.code not in candidates:
            raise SystemExit(f"cannot resolve {row['delib_matiere_code']!r} {row['delib_matiere_nom']!r}")
        rows.append({"objet": row["delib_objet"], "code": matiere.code})
    return rows


def load_saint_etienne() -> list[dict]:
    """The rows whose free-text matière names an @ctes matière (no row has a code): level-1 truth only."""
    from apps.deliberations import nomenclature

    rows = []
    with SAINT_ETIENNE.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            matiere = nomenclature.match_label(row["DELIB_MATIERE_NOM"])
            if matiere is not None:
                rows.append({"objet": row["DELIB_OBJET"], "code": matiere.code, "nom": row["DELIB_MATIERE_NOM"]})
    return rows


def label_texts(with_sub_matieres: bool) -> tuple[list[str], list[str]]:
    """Level-2 codes and the text embedded for each: « Finances locales — Subventions »."""
    from apps.deliberations import nomenclature

    matieres = nomenclature.all_matieres()
    codes, texts = [], []
    for matiere in (m for m in matieres if m.level == 2):
        text = nomenclature.label_path(matiere.code).replace("/", " — ")
        if with_sub_matieres:
            subs = [m.label for m in matieres if m.code.startswith(matiere.code + ".")]
            text += (" : " + ", ".join(subs)) if subs else ""
        codes.append(matiere.code)
        texts.append(text)
    return codes, texts


def embed(texts: list[str], timings: dict, key: str) -> np.ndarray:
    """Embeddings of `texts` with the configured embedder, cached on disk by model and content."""
    from apps.documents.embeddings import get_embedder

    embedder = get_embedder()
    digest = hashlib.sha256(json.dumps([embedder.model_id, texts]).encode()).hexdigest()[:16]
    path, meta = CACHE / f"{digest}.npy", CACHE / f"{digest}.json"
    if path.exists() and meta.exists():
        timings[key] = json.loads(meta.read_text())["seconds"]
        return np.load(path)
    started = time.perf_counter()
    vectors = np.asarray(embedder.embed_passages(texts), dtype=np.float32)
    seconds = time.perf_counter() - started
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    meta.write_text(json.dumps({"seconds": seconds, "count": len(texts), "model": embedder.model_id}))
    timings[key] = seconds
    return vectors


# --- evaluation -------------------------------------------------------------------------------------


def folds(codes: list[str], n_splits: int, repeats: int):
    from sklearn.model_selection import StratifiedKFold

    for repeat in range(repeats):
        splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=repeat)
        with warnings.catch_warnings():  # most codes have fewer rows than folds: expected, said in the README
            warnings.simplefilter("ignore", UserWarning)
            for train, test in splitter.split(np.zeros(len(codes)), codes):
                yield repeat, train, test


def score_predictions(router, probabilities, truth: list[str]) -> dict:
    """Hits at top-1 and top-3 for level 2 and level 1 (level-1 probabilities summed over their codes)."""
    from apps.deliberations.routing.classifier import level1_scores

    classes = np.array(router.classes)
    order2 = np.argsort(-probabilities, axis=1, kind="stable")
    level1, totals = level1_scores(router, probabilities)
    order1 = np.argsort(-totals, axis=1, kind="stable")
    level1 = np.array(level1)
    out = {"l2@1": [], "l2@3": [], "l2@5": [], "l1@1": [], "l1@3": [], "top_score": [], "top_ok": []}
    for i, code in enumerate(truth):
        ranked2, ranked1 = list(classes[order2[i, :5]]), list(level1[order1[i, :3]])
        out["l2@1"].append(ranked2[0] == code)
        out["l2@3"].append(code in ranked2[:3])
        out["l2@5"].append(code in ranked2)
        out["l1@1"].append(ranked1[0] == code.split(".")[0])
        out["l1@3"].append(code.split(".")[0] in ranked1)
        out["top_score"].append(float(probabilities[i, order2[i, 0]]))
        out["top_ok"].append(ranked2[0] == code)
    return out


def cross_validate(vectors, codes, labels, method: str, n_splits: int, repeats: int, train_size=None) -> dict:
    from apps.deliberations.routing.classifier import Examples, fit

    per_repeat, pooled, fit_s, predict_s, predicted = {}, {}, 0.0, 0.0, 0
    rng = np.random.default_rng(0)
    for repeat, train, test in folds(codes, n_splits, repeats):
        if train_size is not None:
            train = rng.choice(train, size=min(train_size, len(train)), replace=False) if train_size else train[:0]
        started = time.perf_counter()
        router = fit(Examples(vectors[train], [codes[i] for i in train]), labels, method)
        fit_s += time.perf_counter() - started
        started = time.perf_counter()
        probabilities = router.probabilities(vectors[test])
        predict_s += time.perf_counter() - started
        predicted += len(test)
        scores = score_predictions(router, probabilities, [codes[i] for i in test])
        for key, values in scores.items():
            per_repeat.setdefault(key, {}).setdefault(repeat, []).extend(values)
            pooled.setdefault(key, []).extend(values)
    folds_count = n_splits * repeats
    result = {
        key: (
            float(np.mean([np.mean(v) for v in per_repeat[key].values()])),
            float(np.std([np.mean(v) for v in per_repeat[key].values()])),
        )
        for key in ("l2@1", "l2@3", "l2@5", "l1@1", "l1@3")
    }
    top_score, top_ok = np.array(pooled["top_score"]), np.array(pooled["top_ok"])
    safe = top_score >= SAFE
    result.update(
        safe_share=float(safe.mean()),
        safe_accuracy=float(top_ok[safe].mean()) if safe.any() else None,
        ece=expected_calibration_error(top_score, top_ok),
        fit_ms=1000 * fit_s / folds_count,
        predict_ms=1000 * predict_s / predicted,
    )
    return result


def expected_calibration_error(scores: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for low, high in itertools.pairwise(edges):
        inside = (scores > low) & (scores <= high)
        if inside.any():
            total += inside.mean() * abs(scores[inside].mean() - correct[inside].mean())
    return float(total)


def transfer(train_vectors, train_codes, test_vectors, test_codes, labels, method: str) -> dict:
    """Train on one authority, predict another's level 1."""
    from apps.deliberations.routing.classifier import Examples, fit

    router = (
        fit(Examples(train_vectors, train_codes), labels, method)
        if method != "prior"
        else fit(Examples(train_vectors[:0], []), labels, "prior")
    )
    scores = score_predictions(router, router.probabilities(test_vectors), test_codes)
    return {"l1@1": float(np.mean(scores["l1@1"])), "l1@3": float(np.mean(scores["l1@3"]))}


# --- report -----------------------------------------------------------------------------------------


def pct(value) -> str:
    return "—" if value is None else f"{100 * value:.1f}"


def print_main_table(results: dict) -> None:
    print(
        "\n| method | L2 top-1 | L2 top-3 | L2 top-5 | L1 top-1 | L1 top-3 | ≥80 % share | ≥80 % right | ECE |"
        " fit ms | predict ms/row |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for method, r in results.items():
        cells = [f"{pct(r[k][0])} ± {pct(r[k][1])}" for k in ("l2@1", "l2@3", "l2@5", "l1@1", "l1@3")]
        print(
            f"| {method} | " + " | ".join(cells) + f" | {pct(r['safe_share'])} | {pct(r['safe_accuracy'])} |"
            f" {r['ece']:.3f} | {r['fit_ms']:.1f} | {r['predict_ms']:.3f} |"
        )


def distribution(codes: list[str]) -> str:
    from collections import Counter

    from apps.deliberations import nomenclature

    lines = ["| code | matière | rows |", "|---|---|---|"]
    for code, count in Counter(codes).most_common():
        lines.append(f"| {code} | {nomenclature.label_path(code)} | {count} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="1×3-fold, three methods")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    n_splits, repeats = (3, 1) if args.smoke else (args.folds, args.repeats)
    setup_django("registre_bench_routing")
    from apps.deliberations.routing import classifier
    from apps.deliberations.vectors import embedding_text_for

    timings: dict = {}
    rows = load_rennes()
    codes = [r["code"] for r in rows]
    vectors = embed([embedding_text_for(r["objet"]) for r in rows], timings, "rennes")
    label_codes, texts = label_texts(with_sub_matieres=False)
    labels = classifier.Labels(embed(texts, timings, "labels"), label_codes)
    print(
        f"Rennes extract: {len(rows)} rows, {len(set(codes))} level-2 codes, "
        f"{len({c.split('.')[0] for c in codes})} level-1 codes; nomenclature: {len(label_codes)} level-2 codes"
    )
    from apps.documents.embeddings import get_embedder

    print(
        f"Embedding with {get_embedder().model_id}: "
        f"{1000 * timings['rennes'] / len(rows):.1f} ms per objet, "
        f"{1000 * timings['labels'] / len(texts):.1f} ms per label (first run; cached afterwards)"
    )
    print(f"\nClass distribution (majority: {max(codes.count(c) for c in set(codes))}/{len(codes)})\n")
    print(distribution(codes))

    methods = SMOKE_METHODS if args.smoke else classifier.METHODS
    print(f"\n## {repeats}× repeated stratified {n_splits}-fold CV, mean ± std over repeats (%)")
    results = {m: cross_validate(vectors, codes, labels, m, n_splits, repeats) for m in methods}
    print_main_table(results)
    if args.smoke:
        return 0
    run_variants(rows, codes, vectors, labels, timings, n_splits, repeats)
    run_learning_curve(vectors, codes, labels, n_splits, repeats)
    run_sensitivity(vectors, codes, labels, n_splits, repeats)
    run_transfer(vectors, codes, labels, timings)
    return 0


def run_variants(rows, codes, vectors, labels, timings, n_splits, repeats) -> None:
    from apps.deliberations.routing import classifier

    raw = embed([r["objet"] for r in rows], timings, "raw")
    sub_codes, sub_texts = label_texts(with_sub_matieres=True)
    sub_labels = classifier.Labels(embed(sub_texts, timings, "sub"), sub_codes)
    print(f"\n## Variants ({classifier.DEFAULT_METHOD}, and prior alone)")
    variants = {
        "cleaned objet (default)": (vectors, labels),
        "raw objet (act number, underscores)": (raw, labels),
        "labels with sub-matières": (vectors, sub_labels),
    }
    results = {}
    for name, (x, lab) in variants.items():
        results[f"{classifier.DEFAULT_METHOD}, {name}"] = cross_validate(
            x, codes, lab, classifier.DEFAULT_METHOD, n_splits, repeats
        )
        results[f"prior, {name}"] = cross_validate(x, codes, lab, "prior", n_splits, repeats)
    print_main_table(results)


def run_learning_curve(vectors, codes, labels, n_splits, repeats) -> None:
    print("\n## Learning curve: labelled rows of the authority used for training (L2 top-3 / L1 top-3, %)")
    sizes = (0, 10, 20, 40, 80, None)
    methods = ("prior", "knn", "knn+prior", "centroid+prior", "logreg", "logreg+prior")
    print("| method | " + " | ".join("all (~121)" if s is None else str(s) for s in sizes) + " |")
    print("|---|" + "---|" * len(sizes))
    for method in methods:
        cells = []
        for size in sizes:
            if size == 0 and "prior" not in method:
                cells.append("—")
                continue
            r = cross_validate(
                vectors, codes, labels, method if size != 0 else "prior", n_splits, repeats, train_size=size
            )
            cells.append(f"{pct(r['l2@3'][0])} / {pct(r['l1@3'][0])}")
        print(f"| {method} | " + " | ".join(cells) + " |")


def run_sensitivity(vectors, codes, labels, n_splits, repeats) -> None:
    """The constants of the classifier, varied one at a time (chosen on this same data: optimistic)."""
    from apps.deliberations.routing import classifier

    print("\n## Sensitivity (L2 top-1 / L2 top-3 / L1 top-1, %; same data as the choice)")
    grid = [
        ("SIMILARITY_TEMPERATURE", (0.01, 0.02, 0.05), ("knn", "centroid", "prior")),
        ("KNN_NEIGHBOURS", (5, 10, 20), ("knn",)),
        ("LOGREG_C", (1.0, 10.0, 100.0, 1000.0), ("logreg",)),
        ("PRIOR_PSEUDO_COUNT", (3.0, 10.0, 30.0), ("logreg+prior", "knn+prior")),
    ]
    for name, values, methods in grid:
        original = getattr(classifier, name)
        for method in methods:
            cells = []
            for value in values:
                setattr(classifier, name, value)
                r = cross_validate(vectors, codes, labels, method, n_splits, repeats)
                cells.append(f"{name}={value}: {pct(r['l2@1'][0])} / {pct(r['l2@3'][0])} / {pct(r['l1@1'][0])}")
            setattr(classifier, name, original)
            print(f"- {method}: " + "; ".join(cells))


def run_transfer(vectors, codes, labels, timings) -> None:
    from apps.deliberations.vectors import embedding_text_for

    rows = load_saint_etienne()
    if not rows:
        return
    test_vectors = embed([embedding_text_for(r["objet"]) for r in rows], timings, "saint-etienne")
    names = sorted({r["nom"] for r in rows})
    print(
        f"\n## Transfer: trained on Rennes (152), tested on Saint-Étienne's {len(rows)} rows whose free-text "
        f"matière names an @ctes matière ({', '.join(names)}); level 1 only.\nCaveat: these hand-transcribed "
        "names are not @ctes codes (a vœu, tax rates and museum prices are filed under COMMANDE PUBLIQUE): "
        "read this as a check of the labels, not of the classifier."
    )
    print("| method | L1 top-1 | L1 top-3 |\n|---|---|---|")
    for method in ("majority", "prior", "knn+prior", "logreg", "logreg+prior"):
        r = transfer(vectors, codes, test_vectors, [x["code"] for x in rows], labels, method)
        print(f"| {method} | {pct(r['l1@1'])} | {pct(r['l1@3'])} |")


if __name__ == "__main__":
    sys.exit(main())
