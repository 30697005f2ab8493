"""Subject routing (LLaMandement-like): suggest the @ctes matière of a deliberation from its objet and
text, for an agent to confirm: the classifier's best codes, the model's pick first when it is on."""

import logging
from contextlib import contextmanager

import numpy as np

from apps.documents.embeddings import EmbeddingUnavailable, get_embedder
from apps.tenants.context import tenant_context

from .. import nomenclature
from ..models import Deliberation
from ..vectors import embedding_text_for, ensure_embeddings
from . import classifier
from .model_choice import MODEL_CANDIDATES, choose_with_model, model_enabled
from .training import router_for

logger = logging.getLogger(__name__)
SUGGESTIONS = 3
SAFE_SCORE = 0.8  # « suggestions sûres »: on Rennes, ≥ 80 % was right 94 times in 100 (bench/routing/README.md)


class RoutingError(ValueError):
    """A request that cannot be done as asked; the message is French, for the user."""


class RoutingUnavailable(RoutingError):
    """The embedder (TEI in production) failed: worth trying again later."""

    def __init__(self):
        super().__init__(
            "Le service d'analyse des textes est momentanément indisponible ; réessayez dans quelques minutes."
        )


def suggestions_from(router: classifier.Router, probabilities: np.ndarray, k: int = SUGGESTIONS) -> list[dict]:
    """Stored form: the k best level-2 codes (level 2), then the k best level-1 codes (level 1), each
    best first, with their probabilities rounded to the thousandth."""
    order = np.argsort(-probabilities, kind="stable")[:k]
    level2_items = [_item(router.classes[i], float(probabilities[i])) for i in order]
    level1, totals = classifier.level1_scores(router, probabilities[None, :])
    order1 = np.argsort(-totals[0], kind="stable")[:k]
    return level2_items + [_item(level1[i], float(totals[0, i])) for i in order1]


def _item(code: str, score: float) -> dict:
    matiere = nomenclature.get(code)
    return {
        "code": code,
        "label": matiere.label if matiere else "",
        "level": code.count(".") + 1,
        "score": round(score, 3),
        "source": "classifier",
    }


def suggest_matieres(
    *, authority_id: int, objet: str, text: str = "", k: int = SUGGESTIONS, use_model: bool | None = None
) -> list[dict]:
    """Suggestions for a text not (yet) stored: [{code, label, level, score, source}], level 2 first."""
    if not (objet or "").strip():
        raise RoutingError("Indiquez l'objet de la délibération.")
    with _embedder_errors(), tenant_context(authority_id):
        router = router_for(authority_id)
        vector = get_embedder().embed_passages([embedding_text_for(objet, text)])[0]
    return ranked_suggestions(
        router, router.probabilities(vector)[0], objet, text, k=k, use_model=use_model, authority_id=authority_id
    )


def suggest_for(deliberation: Deliberation, *, use_model: bool | None = None) -> list[dict]:
    """Suggest, store on the deliberation, and return its suggestions. In its authority's context."""
    with _embedder_errors():
        ensure_embeddings([deliberation])
        router = router_for(deliberation.authority_id)
    suggestions = ranked_suggestions(
        router,
        router.probabilities(np.asarray(deliberation.embedding))[0],
        deliberation.objet,
        deliberation.text,
        use_model=use_model,
        authority_id=deliberation.authority_id,
    )
    Deliberation.objects.filter(pk=deliberation.pk).update(matiere_suggestions=suggestions)
    deliberation.matiere_suggestions = suggestions
    return suggestions


@contextmanager
def _embedder_errors():
    """A page or an API call says the embedder is down instead of failing with a 500."""
    try:
        yield
    except EmbeddingUnavailable as exc:
        logger.warning("Embedding failed during routing: %s", exc)
        raise RoutingUnavailable() from exc


def ranked_suggestions(
    router,
    probabilities,
    objet: str,
    text: str,
    *,
    k: int = SUGGESTIONS,
    use_model: bool | None = None,
    authority_id: int | None = None,
) -> list[dict]:
    """The k best level-2 then level-1 codes; with the model, its pick among the classifier's
    MODEL_CANDIDATES best moves first (the scores stay the classifier's)."""
    with_model = model_enabled() if use_model is None else use_model
    ranked = suggestions_from(router, probabilities, max(k, MODEL_CANDIDATES) if with_model else k)
    level2 = [s for s in ranked if s["level"] == 2]
    level1 = [s for s in ranked if s["level"] == 1][:k]
    chosen = choose_with_model(objet, text, level2, authority_id=authority_id) if with_model else None
    if chosen is not None:
        picked = next(s for s in level2 if s["code"] == chosen)
        level2 = [{**picked, "source": "model"}, *[s for s in level2 if s is not picked]]
    return level2[:k] + level1


def top_suggestion(deliberation: Deliberation) -> dict | None:
    return next((s for s in deliberation.matiere_suggestions or [] if s.get("level") == 2), None)
