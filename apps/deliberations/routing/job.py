"""Batch classification as a job after an import (or on demand): embed what is missing, fit once,
store suggestions a batch of rows at a time."""

import numpy as np
from django.db.models import Q

from apps.documents.embeddings import get_embedder
from apps.jobs.runner import JobRun, job_task
from apps.jobs.services import enqueue_job
from apps.tenants.context import current_authority_id, tenant_context

from ..models import Deliberation
from ..vectors import ensure_embeddings
from .suggestions import SAFE_SCORE, ranked_suggestions
from .training import router_for

JOB_KIND = "deliberations.classify"
JOB_BATCH = 64  # rows per transaction in the classification job: progress shows, a failure loses one batch


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


@job_task(JOB_KIND, "Classement des délibérations par matière")
def classify_deliberations(run: JobRun) -> dict:
    """Embed what is missing (the authority's labelled acts and the targets), fit once, suggest. Rows
    are loaded a batch at a time: texts can be long and an import large."""
    model_id = get_embedder().model_id
    with run.tenant():
        targets = list(
            Deliberation.objects.filter(pk__in=run.params.get("ids") or [], matiere_code="", matiere_confirmed=False)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        stale = ~Q(embedding_model=model_id) | Q(embedding__isnull=True)
        todo = list(
            Deliberation.objects.filter(stale)
            .filter(Q(pk__in=targets) | ~Q(matiere_code=""))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    run.progress(2, f"{len(targets)} délibération(s) à classer, {len(todo)} à analyser.")
    for start in range(0, len(todo), JOB_BATCH):
        with run.tenant():
            ensure_embeddings(list(Deliberation.objects.filter(pk__in=todo[start : start + JOB_BATCH])))
        done = min(len(todo), start + JOB_BATCH)
        run.progress(5 + 75 * done // len(todo), f"Analyse des textes : {done} sur {len(todo)}.")
    with run.tenant():
        router = router_for(run.authority_id)
    safe = 0
    for start in range(0, len(targets), JOB_BATCH):
        with run.tenant():
            for deliberation in Deliberation.objects.filter(pk__in=targets[start : start + JOB_BATCH]):
                probabilities = router.probabilities(np.asarray(deliberation.embedding))[0]
                suggestions = ranked_suggestions(router, probabilities, deliberation.objet, deliberation.text)
                safe += suggestions[0]["score"] >= SAFE_SCORE
                # matiere_code="": an agent may have chosen one since the job started.
                Deliberation.objects.filter(pk=deliberation.pk, matiere_code="").update(matiere_suggestions=suggestions)
        done = min(len(targets), start + JOB_BATCH)
        run.progress(80 + 20 * done // len(targets), f"Suggestions : {done} sur {len(targets)}.")
    message = (
        f"{len(targets)} délibération(s) classée(s), dont {safe} avec une suggestion sûre (≥ 80 %)."
        if targets
        else "Aucune délibération sans matière à classer."
    )
    return {"classified": len(targets), "safe": safe, "embedded": len(todo), "message": message}
