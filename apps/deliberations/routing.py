"""Subject routing (LLaMandement-like): suggest the @ctes matière of a deliberation from its objet and
text, for an agent to confirm; batch classification as a job after an import.

Training data: the authority's deliberations that have a code, other authorities' *published* ones
(row-level security hides the rest) and the nomenclature's labels as a prior (see `classifier`).
"""

import logging
import threading
import time
from collections import OrderedDict
from contextlib import contextmanager

import numpy as np
from django.conf import settings
from django.db.models import Count, Max, Q

from apps.ai.calls import governed_call, is_generative, parse_json
from apps.ai.errors import InferenceFailure, QuotaExceeded
from apps.documents.embeddings import EmbeddingUnavailable, get_embedder
from apps.jobs.runner import JobRun, job_task
from apps.jobs.services import enqueue_job
from apps.tenants.context import current_authority_id, tenant_context
from apps.tenants.models import Authority

from . import classifier, nomenclature
from .models import Deliberation
from .vectors import embedding_text_for, ensure_embeddings

logger = logging.getLogger(__name__)
JOB_KIND = "deliberations.classify"
SUGGESTIONS = 3
SAFE_SCORE = 0.8  # « suggestions sûres »: on Rennes, ≥ 80 % was right 94 times in 100 (bench/routing/README.md)
# Other authorities' acts teach the vocabulary, but an authority's own habits (7.5 vs 7.10) come first.
OTHER_AUTHORITY_WEIGHT = 0.5
# Own rows first, then the newest: plenty for ~60 classes, and reading 5 000 vectors stays well under a
# second (the fit itself: ~0.15 s for 5 000 rows, ~30 ms for Rennes' 121, on 2 cores).
MAX_TRAINING_ROWS = 5_000
CACHED_ROUTERS = 32
JOB_BATCH = 64  # rows per transaction in the classification job: progress shows, a failure loses one batch
MODEL_CANDIDATES = 5  # the model picks among the classifier's 5 best: 5-fold CV top-3 is ~80 %, top-5 higher
MODEL_TASK = "matiere"  # audited as « Suggestion de matière »
MODEL_ROUTE = "deliberation-routing"  # an INFERENCE_ROUTES entry may name it to send routing to a small model
MODEL_TEXT_CHARS = 2000
MODEL_WAIT_SECONDS = 10  # a suggestion is worth less than a blocked page: the classifier's order is kept


class RoutingError(ValueError):
    """A request that cannot be done as asked; the message is French, for the user."""


class RoutingUnavailable(RoutingError):
    """The embedder (TEI in production) failed: worth trying again later."""

    def __init__(self):
        super().__init__("Le service d'analyse des textes est momentanément indisponible ; réessayez dans "
                         "quelques minutes.")


# --- training ---------------------------------------------------------------------------------------

def training_rows(authority_id: int, model_id: str):
    """Labelled, embedded deliberations usable by this authority: its own and others' published ones.
    The explicit filter repeats what row-level security enforces, so that a query run without it
    (a maintenance script) could not learn from another authority's unpublished acts either."""
    return (Deliberation.all_tenants
            .filter(Q(authority_id=authority_id) | Q(published=True))
            .exclude(matiere_code="")
            .filter(embedding__isnull=False, embedding_model=model_id))


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
    signature = (model_id, method, tuple(rows.aggregate(n=Count("pk"), last=Max("updated_at"), top=Max("pk"),
                                                         own=Count("pk", filter=Q(authority_id=authority_id)))
                                         .values()))
    with _lock:
        cached = _routers.get(authority_id)
        if cached and cached[0] == signature:
            _routers.move_to_end(authority_id)
            return cached[1]
    started = time.perf_counter()
    router = classifier.fit(_examples(rows, authority_id), nomenclature_labels(), method)
    logger.info("Routing model of authority %s fitted (%s, %d classes) in %.2fs", authority_id, method,
                len(router.classes), time.perf_counter() - started)
    with _lock:
        _routers[authority_id] = (signature, router)
        while len(_routers) > CACHED_ROUTERS:
            _routers.popitem(last=False)
    return router


def _examples(rows, authority_id: int) -> classifier.Examples:
    vectors, codes, weights = [], [], []
    for own, code, vector in (rows.annotate(own=Q(authority_id=authority_id))
                              .order_by("-own", "-delib_date", "-pk")
                              .values_list("own", "matiere_code", "embedding")[:MAX_TRAINING_ROWS]):
        if (code := level2(code)) is not None:
            vectors.append(vector)
            codes.append(code)
            weights.append(1.0 if own else OTHER_AUTHORITY_WEIGHT)
    dimensions = get_embedder().dimensions
    return classifier.Examples(np.asarray(vectors, dtype=np.float32).reshape(len(codes), dimensions), codes,
                               np.asarray(weights, dtype=np.float32))


# --- suggestions ------------------------------------------------------------------------------------

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
    return {"code": code, "label": matiere.label if matiere else "", "level": code.count(".") + 1,
            "score": round(score, 3), "source": "classifier"}


def suggest_matieres(*, authority_id: int, objet: str, text: str = "", k: int = SUGGESTIONS,
                     use_model: bool | None = None) -> list[dict]:
    """Suggestions for a text not (yet) stored: [{code, label, level, score, source}], level 2 first."""
    if not (objet or "").strip():
        raise RoutingError("Indiquez l'objet de la délibération.")
    with _embedder_errors(), tenant_context(authority_id):
        router = router_for(authority_id)
        vector = get_embedder().embed_passages([embedding_text_for(objet, text)])[0]
    return _suggestions(router, router.probabilities(vector)[0], objet, text, k=k, use_model=use_model,
                        authority_id=authority_id)


def suggest_for(deliberation: Deliberation, *, use_model: bool | None = None) -> list[dict]:
    """Suggest, store on the deliberation, and return its suggestions. In its authority's context."""
    with _embedder_errors():
        ensure_embeddings([deliberation])
        router = router_for(deliberation.authority_id)
    suggestions = _suggestions(router, router.probabilities(np.asarray(deliberation.embedding))[0],
                               deliberation.objet, deliberation.text, use_model=use_model,
                               authority_id=deliberation.authority_id)
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


def _suggestions(router, probabilities, objet: str, text: str, *, k: int = SUGGESTIONS,
                 use_model: bool | None = None, authority_id: int | None = None) -> list[dict]:
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


def pending():
    """Deliberations of the current authority waiting for an agent to confirm a suggested matière."""
    return (Deliberation.objects.filter(matiere_confirmed=False, matiere_code="")
            .exclude(matiere_suggestions=[]).order_by("-delib_date", "-pk"))


def safe_pending(threshold: float = SAFE_SCORE):
    """Pending deliberations whose best suggestion (stored first) scores at least `threshold`."""
    return pending().filter(matiere_suggestions__0__level=2, matiere_suggestions__0__score__gte=threshold)


# --- the generative model's pick (opt-in: DELIB_ROUTING_USE_MODEL; unmeasured, no model here) -----------

def model_enabled() -> bool:
    return bool(getattr(settings, "DELIB_ROUTING_USE_MODEL", False)) and is_generative()


def choose_with_model(objet: str, text: str, candidates: list[dict], *, authority_id: int | None = None) -> str | None:
    """The code the model picks among the candidates; None (keep the classifier's order) when the
    model is unavailable, the quota is used, or it answers anything but one of the candidates."""
    codes = [c["code"] for c in candidates]
    authority_id = authority_id or current_authority_id()
    if len(codes) < 2 or authority_id is None:
        return None
    schema = {"type": "object", "properties": {"code": {"type": "string", "enum": codes}}, "required": ["code"]}
    context = {"act": f"Objet : {objet.strip()}\n{(text or '').strip()[:MODEL_TEXT_CHARS]}".strip(),
               "candidates": [{"code": code, "label": nomenclature.label_path(code)} for code in codes]}
    try:
        reply = governed_call(Authority.objects.get(pk=authority_id), MODEL_TASK, "matiere", context, schema=schema,
                              max_tokens=20, temperature=0.1, wait_seconds=MODEL_WAIT_SECONDS,
                              inputs={"objet": objet[:500], "candidates": codes})
    except (QuotaExceeded, InferenceFailure) as exc:  # the classifier's answer stands
        logger.warning("Routing model unavailable, keeping the classifier's order: %r", exc)
        return None
    code = model_code(reply.data)
    if code not in codes:
        logger.warning("Routing model answered %r, not one of %s: keeping the classifier's order",
                       reply.raw[:200], codes)
        return None
    return code


def model_code(data) -> str | None:
    """The "code" of the model's JSON object, if a string: as a number, 7.10 would read 7.1."""
    value = data.get("code") if isinstance(data, dict) else None
    return value.strip() if isinstance(value, str) else None


def parse_model_code(answer: str) -> str | None:
    return model_code(parse_json(answer))


# --- confirmation -----------------------------------------------------------------------------------

def confirm_matiere(*, deliberation: Deliberation, code: str, user=None) -> Deliberation:
    """Set the deliberation's matière to a level-2 code chosen by an agent and forget the suggestions."""
    code = (code or "").strip()
    if level2(code) != code:
        raise RoutingError(f"« {code} » n'est pas une matière de niveau 2 de la nomenclature @ctes "
                           "(par exemple 7.5 Subventions)." if code else "Choisissez une matière.")
    deliberation.matiere_code = code
    deliberation.matiere_nom = nomenclature.label_path(code)
    deliberation.matiere_confirmed = True
    deliberation.matiere_suggestions = []
    deliberation.save(update_fields=["matiere_code", "matiere_nom", "matiere_confirmed", "matiere_suggestions",
                                     "updated_at"])
    logger.info("Matière %s confirmed on deliberation %s by user %s", code, deliberation.pk,
                getattr(user, "pk", None))
    return deliberation


def accept_safe_suggestions(*, user=None, threshold: float = SAFE_SCORE) -> int:
    """Confirm every pending top suggestion scoring at least `threshold`; returns how many."""
    accepted = 0
    for deliberation in safe_pending(threshold):
        confirm_matiere(deliberation=deliberation, code=top_suggestion(deliberation)["code"], user=user)
        accepted += 1
    return accepted


# --- batch classification ---------------------------------------------------------------------------

def enqueue_classification(*, authority, deliberation_ids, created_by=None):
    """Queue the classification of these deliberations (those without a matière get suggestions).
    None when there is nothing to classify."""
    ids = sorted({int(pk) for pk in deliberation_ids or []})
    if not ids:
        return None
    if current_authority_id() == authority.pk:
        return enqueue_job(authority=authority, kind=JOB_KIND, created_by=created_by, params={"ids": ids})
    with tenant_context(authority.pk):
        return enqueue_job(authority=authority, kind=JOB_KIND, created_by=created_by, params={"ids": ids})


def unclassified_ids() -> list[int]:
    """Current authority's deliberations without a matière nor a suggestion."""
    return list(Deliberation.objects.filter(matiere_code="", matiere_confirmed=False, matiere_suggestions=[])
                .values_list("pk", flat=True))


@job_task(JOB_KIND, "Classement des délibérations par matière")
def classify_deliberations(run: JobRun) -> dict:
    """Embed what is missing (the authority's labelled acts and the targets), fit once, suggest. Rows
    are loaded a batch at a time: texts can be long and an import large."""
    model_id = get_embedder().model_id
    with run.tenant():
        targets = list(Deliberation.objects.filter(pk__in=run.params.get("ids") or [], matiere_code="",
                                                   matiere_confirmed=False).order_by("pk").values_list("pk", flat=True))
        stale = ~Q(embedding_model=model_id) | Q(embedding__isnull=True)
        todo = list(Deliberation.objects.filter(stale).filter(Q(pk__in=targets) | ~Q(matiere_code=""))
                    .order_by("pk").values_list("pk", flat=True))
    run.progress(2, f"{len(targets)} délibération(s) à classer, {len(todo)} à analyser.")
    for start in range(0, len(todo), JOB_BATCH):
        with run.tenant():
            ensure_embeddings(list(Deliberation.objects.filter(pk__in=todo[start:start + JOB_BATCH])))
        done = min(len(todo), start + JOB_BATCH)
        run.progress(5 + 75 * done // len(todo), f"Analyse des textes : {done} sur {len(todo)}.")
    with run.tenant():
        router = router_for(run.authority_id)
    safe = 0
    for start in range(0, len(targets), JOB_BATCH):
        with run.tenant():
            for deliberation in Deliberation.objects.filter(pk__in=targets[start:start + JOB_BATCH]):
                probabilities = router.probabilities(np.asarray(deliberation.embedding))[0]
                suggestions = _suggestions(router, probabilities, deliberation.objet, deliberation.text)
                safe += suggestions[0]["score"] >= SAFE_SCORE
                # matiere_code="": an agent may have chosen one since the job started.
                Deliberation.objects.filter(pk=deliberation.pk, matiere_code="").update(
                    matiere_suggestions=suggestions)
        done = min(len(targets), start + JOB_BATCH)
        run.progress(80 + 20 * done // len(targets), f"Suggestions : {done} sur {len(targets)}.")
    message = (f"{len(targets)} délibération(s) classée(s), dont {safe} avec une suggestion sûre (≥ 80 %)."
               if targets else "Aucune délibération sans matière à classer.")
    return {"classified": len(targets), "safe": safe, "embedded": len(todo), "message": message}
