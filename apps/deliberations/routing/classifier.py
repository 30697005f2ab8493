"""Subject routing's machine learning, free of Django: score the @ctes level-2 codes of texts from their
embeddings, with nearest neighbours, centroids or a linear model, and the nomenclature's own labels as a prior.

Vectors are L2-normalised (both embedders normalise), so a dot product is a cosine similarity.
"""

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

METHODS = ("prior", "majority", "knn", "centroid", "logreg", "knn+prior", "centroid+prior", "logreg+prior")
# Best top-1 and calibration on the Rennes cross-validation (bench/routing/README.md), chosen on that
# same data; fits in ~30 ms there (newton-cg), so a router is refitted whenever its training rows change.
DEFAULT_METHOD = "logreg+prior"
# e5 cosine similarities of short French texts sit between ~0.7 and ~0.95: a softmax needs a low
# temperature to tell them apart. Chosen on the Rennes benchmark, like the other constants here.
SIMILARITY_TEMPERATURE = 0.02
KNN_NEIGHBOURS = 10
LOGREG_C = 1000.0  # little regularisation: accuracy rose from C=1 to C=1000 on Rennes
# The prior's weight is PRIOR_PSEUDO_COUNT / (PRIOR_PSEUDO_COUNT + n) for n training rows: it decides
# alone with no labelled deliberation and fades as the authority's own examples accumulate.
PRIOR_PSEUDO_COUNT = 10.0


@dataclass
class Examples:
    """Labelled vectors: one level-2 code per row, and how much each row counts."""

    vectors: np.ndarray  # (n, d)
    codes: list[str]
    weights: np.ndarray | None = None  # (n,), 1.0 each by default

    def __post_init__(self):
        self.vectors = np.asarray(self.vectors, dtype=np.float32)
        if self.vectors.ndim != 2:
            self.vectors = self.vectors.reshape(len(self.codes), -1)
        if self.weights is None:
            self.weights = np.ones(len(self.codes), dtype=np.float32)

    def __len__(self):
        return len(self.codes)


@dataclass
class Labels:
    """The nomenclature's level-2 labels ("Finances locales — Subventions") embedded: the cold-start prior."""

    vectors: np.ndarray  # (m, d)
    codes: list[str]


@dataclass
class Router:
    """A fitted scorer: `probabilities(X)` gives, for each row of X, a distribution over `classes`."""

    method: str
    classes: list[str]
    _score: object = field(repr=False)  # callable (X) -> (n, len(classes)) probabilities

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
        return self._score(vectors)

    def ranked(self, vector: np.ndarray, k: int = 3) -> list[tuple[str, float]]:
        """The k best level-2 codes of one vector, with their probabilities."""
        probabilities = self.probabilities(vector)[0]
        order = np.argsort(-probabilities, kind="stable")[:k]
        return [(self.classes[i], float(probabilities[i])) for i in order]


def fit(examples: Examples, labels: Labels | None = None, method: str = DEFAULT_METHOD) -> Router:
    """Fit `method` on the examples; "+prior" blends in the labels' similarities, "prior" uses them alone."""
    if method not in METHODS:
        raise ValueError(f"unknown routing method {method!r}")
    base, _, with_prior = method.partition("+")
    classes = sorted(set(examples.codes) | (set(labels.codes) if labels is not None else set()), key=code_key)
    if base == "prior" or not len(examples):
        if labels is None:
            raise ValueError("nothing to learn from: no examples and no nomenclature labels")
        return Router(method, classes, _prior_scorer(labels, classes))
    scorer = _BASE_SCORERS[base](examples, classes)
    if with_prior and labels is not None:
        weight = PRIOR_PSEUDO_COUNT / (PRIOR_PSEUDO_COUNT + float(examples.weights.sum()))
        scorer = _blend(scorer, _prior_scorer(labels, classes), weight)
    return Router(method, classes, scorer)


def level1_scores(router: Router, probabilities: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Level-1 codes and their probabilities: the sum over each one's level-2 codes."""
    level1 = sorted({code.split(".")[0] for code in router.classes}, key=code_key)
    index = {code: i for i, code in enumerate(level1)}
    totals = np.zeros((probabilities.shape[0], len(level1)), dtype=np.float64)
    for j, code in enumerate(router.classes):
        totals[:, index[code.split(".")[0]]] += probabilities[:, j]
    return level1, totals


def code_key(code: str) -> tuple[int, ...]:
    """Numeric order: 7.2 before 7.10."""
    return tuple(int(part) if part.isdigit() else 0 for part in code.split("."))


# --- scorers ------------------------------------------------------------------------------------------


def _softmax(similarities: np.ndarray) -> np.ndarray:
    logits = similarities / SIMILARITY_TEMPERATURE
    logits -= logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=1, keepdims=True)


def _columns(codes: list[str], classes: list[str]) -> np.ndarray:
    index = {code: i for i, code in enumerate(classes)}
    return np.array([index[code] for code in codes])


def _prior_scorer(labels: Labels, classes: list[str]):
    columns = _columns(labels.codes, classes)

    def score(vectors):
        similarities = np.full((vectors.shape[0], len(classes)), -1.0, dtype=np.float64)
        similarities[:, columns] = vectors @ labels.vectors.T
        return _softmax(similarities)

    return score


def _majority_scorer(examples: Examples, classes: list[str]):
    counts = np.zeros(len(classes))
    np.add.at(counts, _columns(examples.codes, classes), examples.weights)
    distribution = counts / counts.sum()
    return lambda vectors: np.tile(distribution, (vectors.shape[0], 1))


def _knn_scorer(examples: Examples, classes: list[str]):
    """Each of the k nearest examples votes for its code with weight exp(similarity / T)."""
    vectors, columns, weights = examples.vectors, _columns(examples.codes, classes), examples.weights
    k = min(KNN_NEIGHBOURS, len(columns))

    def score(queries):
        similarities = queries @ vectors.T
        nearest = np.argpartition(-similarities, k - 1, axis=1)[:, :k]
        rows = np.arange(queries.shape[0])[:, None]
        near = similarities[rows, nearest]
        votes = weights[nearest] * np.exp((near - near.max(axis=1, keepdims=True)) / SIMILARITY_TEMPERATURE)
        totals = np.zeros((queries.shape[0], len(classes)))
        np.add.at(totals, (np.broadcast_to(rows, nearest.shape), columns[nearest]), votes)
        return totals / totals.sum(axis=1, keepdims=True)

    return score


def _centroid_scorer(examples: Examples, classes: list[str]):
    """Cosine to each code's weighted mean vector."""
    sums = defaultdict(lambda: np.zeros(examples.vectors.shape[1], dtype=np.float64))
    for vector, code, weight in zip(examples.vectors, examples.codes, examples.weights, strict=True):
        sums[code] += weight * vector
    known = [code for code in classes if code in sums]
    centroids = np.vstack([sums[code] / np.linalg.norm(sums[code]) for code in known])
    columns = _columns(known, classes)

    def score(vectors):
        similarities = np.full((vectors.shape[0], len(classes)), -1.0, dtype=np.float64)
        similarities[:, columns] = vectors @ centroids.T
        return _softmax(similarities)

    return score


def _logreg_scorer(examples: Examples, classes: list[str]):
    """Multinomial logistic regression; one class alone (a new authority) falls back to centroids."""
    from sklearn.linear_model import LogisticRegression

    seen = sorted(set(examples.codes), key=code_key)
    if len(seen) < 2:
        return _centroid_scorer(examples, classes)
    # newton-cg converges in ~12 iterations where lbfgs needed ~70 and 30 times longer, to the same accuracy.
    model = LogisticRegression(C=LOGREG_C, solver="newton-cg", max_iter=1000)
    model.fit(examples.vectors, examples.codes, sample_weight=examples.weights)
    columns = _columns(list(model.classes_), classes)

    def score(vectors):
        probabilities = np.zeros((vectors.shape[0], len(classes)))
        probabilities[:, columns] = model.predict_proba(vectors)
        return probabilities

    return score


def _blend(first, second, weight: float):
    return lambda vectors: (1 - weight) * first(vectors) + weight * second(vectors)


_BASE_SCORERS = {
    "majority": _majority_scorer,
    "knn": _knn_scorer,
    "centroid": _centroid_scorer,
    "logreg": _logreg_scorer,
}
