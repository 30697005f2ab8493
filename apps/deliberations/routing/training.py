"""The matière classifier of an authority, fitted on the deliberations it may learn from: its own that
have a code, other authorities' *published* ones (row-level security hides the rest), and the
nomenclature's labels as a prior (see `classifier`); refitted only when those rows change."""

import logging
import threading
import time
from collections import OrderedDict

import numpy as np
from django.db.models import Count, Max, Q

from apps.documents.embeddings import get_embedder

from .. import nomenclature
from ..models import Deliberation
from . import classifier

logger = logging.getLogger(__name__)
# Other authorities' acts teach the vocabulary, but an authority's own habits (7.5 vs 7.10) come first.
OTHER_AUTHORITY_WEIGHT = 0.5
# Own rows first, then the newest: plenty for ~60 classes, and reading 5 000 vectors stays well under a
# second (the fit itself: ~0.15 s for 5 000 rows, ~30 ms for Rennes' 121, on 2 cores).
MAX_TRAINING_ROWS = 5_000
CACHED_ROUTERS = 32


def training_rows(authority_id: int, model_id: str):
    """Labelled, embedded deliberations usable by this authority: its own and others' published ones.
    The explicit filter repeats what row-level security enforces, so that a query run without it
    (a maintenance script) could not learn from another authority's unpublished acts either."""
    return (
        Deliberation.all_tenants.filter(Q(authority_id=authority_id) | Q(published=True))
        .exclude(matiere_code="")
        .filter(embedding__isnull=False, embedding_model=model_id)
    )


_label_vectors: dict[str, classifier.Labels] = {}
_routers: OrderedDict = OrderedDict()
_lock = threading.Lock()


def nomenclature_labels() -> classifier.Labels:
    """The level-2 labels embedded once per process and model (~60 short texts)."""
    embedder = get_embedder()
    with _lock:
        labels = _label_vectors.get(embedder.model_id)
    if labels is None:
        matieres = [m for m in nomenclature.all_matieres() if m.level == 2]
        texts = [nomenclature.label_path(m.code).replace("/", " — ") for m in matieres]
        labels = classifier.Labels(embedder.embed_passages(texts), [m.code for m in matieres])
        with _lock:
            _label_vectors[embedder.model_id] = labels
    return labels


def level2(code: str) -> str | None:
    """The level-2 code of a stored code ("7.5.2" → "7.5"), None if the nomenclature lacks it."""
    head = ".".join(code.strip().split(".")[:2])
    matiere = nomenclature.get(head)
    return head if matiere is not None and matiere.level == 2 else None


def router_for(authority_id: int, *, method: str = classifier.DEFAULT_METHOD) -> classifier.Router:
    """The fitted router of an authority, refitted only when its training rows changed. Call it in the
    authority's tenant context."""
    model_id = get_embedder().model_id
    rows = training_rows(authority_id, model_id)
    signature = (
        model_id,
        method,
        tuple(
            rows.aggregate(
                n=Count("pk"),
                last=Max("updated_at"),
                top=Max("pk"),
                own=Count("pk", filter=Q(authority_id=authority_id)),
            ).values()
        ),
    )
    with _lock:
        cached = _routers.get(authority_id)
        if cached and cached[0] == signature:
            _routers.move_to_end(authority_id)
            return cached[1]
    started = time.perf_counter()
    router = classifier.fit(_examples(rows, authority_id), nomenclature_labels(), method)
    logger.info(
        "Routing model of authority %s fitted (%s, %d classes) in %.2fs",
        authority_id,
        method,
        len(router.classes),
        time.perf_counter() - started,
    )
    with _lock:
        _routers[authority_id] = (signature, router)
        while len(_routers) > CACHED_ROUTERS:
            _routers.popitem(last=False)
    return router


def _examples(rows, authority_id: int) -> classifier.Examples:
    vectors, codes, weights = [], [], []
    for own, code, vector in (
        rows.annotate(own=Q(authority_id=authority_id))
        .order_by("-own", "-delib_date", "-pk")
        .values_list("own", "matiere_code", "embedding")[:MAX_TRAINING_ROWS]
    ):
        if (code := level2(code)) is not None:
            vectors.append(vector)
            codes.append(code)
            weights.append(1.0 if own else OTHER_AUTHORITY_WEIGHT)
    dimensions = get_embedder().dimensions
    return classifier.Examples(
        np.asarray(vectors, dtype=np.float32).reshape(len(codes), dimensions),
        codes,
        np.asarray(weights, dtype=np.float32),
    )
