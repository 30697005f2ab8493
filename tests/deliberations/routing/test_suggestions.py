"""Subject routing, service level: suggestions learnt from real Rennes deliberations, cold start from the
nomenclature, other authorities' published acts (and never their unpublished ones), confirmation, the
batch job. About 40 objets are embedded for the whole module (each once, see test_routing_support)."""

import numpy as np
import pytest

from apps.deliberations.models import Deliberation
from apps.deliberations.routing import classifier
from apps.deliberations.routing.job import enqueue_classification
from apps.deliberations.routing.services import accept_safe_suggestions, confirm_matiere
from apps.deliberations.routing.suggestions import SAFE_SCORE, SUGGESTIONS, RoutingError, suggest_for, suggest_matieres
from apps.deliberations.routing.training import _routers, router_for, training_rows
from apps.deliberations.vectors import embedding_text_for
from apps.documents.embeddings import get_embedder
from apps.jobs.models import Job
from apps.tenants.context import tenant_context

from .support import add_deliberation, add_rows, level1_codes, level2_codes, rows_fixture

pytestmark = pytest.mark.django_db
rows = rows_fixture(train_size=30, test_size=10)


def suggest(authority, objet, **kwargs):
    return suggest_matieres(authority_id=authority.pk, objet=objet, **kwargs)


def test_held_out_rennes_objets_get_their_true_level1_in_the_top3_most_of_the_time(rows, authority):
    train, held_out = rows
    add_rows(authority, train)
    warm = [suggest(authority, row["objet"]) for row in held_out]
    assert hits(held_out, warm, level=1, k=3) >= 0.7 * len(held_out), [level2_codes(s) for s in warm]
    assert hits(held_out, warm, level=2, k=3) >= 0.5 * len(held_out)
    # Learning from the authority's rows beats the nomenclature alone on the same objets.
    with tenant_context(authority.pk):
        Deliberation.objects.update(matiere_code="")
    cold = [suggest(authority, row["objet"]) for row in held_out]
    assert hits(held_out, warm, level=1, k=1) > hits(held_out, cold, level=1, k=1)
    assert hits(held_out, warm, level=2, k=1) > hits(held_out, cold, level=2, k=1)


def hits(rows, suggestions, *, level: int, k: int) -> int:
    codes = level2_codes if level == 2 else level1_codes
    truth = [row["code"] if level == 2 else row["code"].split(".")[0] for row in rows]
    return sum(code in codes(s)[:k] for code, s in zip(truth, suggestions, strict=True))


def test_suggestions_are_level2_then_level1_best_first_with_consistent_scores(rows, authority):
    train, held_out = rows
    add_rows(authority, train[:12])
    suggestions = suggest(authority, held_out[0]["objet"])
    level2 = [s for s in suggestions if s["level"] == 2]
    level1 = [s for s in suggestions if s["level"] == 1]
    assert suggestions == level2 + level1 and len(level2) == len(level1) == SUGGESTIONS
    for group in (level2, level1):
        scores = [s["score"] for s in group]
        assert scores == sorted(scores, reverse=True) and scores[-1] >= 0 and sum(scores) <= 1.001
    assert all(s["label"] and s["source"] == "classifier" for s in suggestions)
    # A domain is at least as likely as its best matière: its probability is the sum of its matières'.
    best = level2[0]
    domain = next((s for s in level1 if s["code"] == best["code"].split(".")[0]), None)
    assert domain is not None and domain["score"] >= best["score"] - 0.001


def test_without_any_labelled_deliberation_the_nomenclature_labels_decide(authority):
    assert not Deliberation.all_tenants.exclude(matiere_code="").exists()
    for objet, code in (("Marchés publics", "1.1"), ("Emprunts", "7.3"), ("Personnel contractuel", "4.2")):
        assert level2_codes(suggest(authority, objet))[0] == code


def test_other_authorities_published_deliberations_train_the_classifier(rows, authority, other_authority):
    train, held_out = rows
    subventions = [row for row in train if row["code"] == "7.5"][:6]
    query = next(row["objet"] for row in held_out if row["code"] == "7.5")
    cold = suggest(authority, query)
    add_rows(other_authority, subventions, published=True)
    warm = suggest(authority, query)
    assert level2_codes(warm)[0] == "7.5"
    assert warm[0]["score"] > next((s["score"] for s in cold if s["code"] == "7.5"), 0.0)
    with tenant_context(authority.pk):
        assert training_rows(authority.pk, get_embedder().model_id).count() == len(subventions)


def test_an_unpublished_deliberation_of_another_authority_never_influences_suggestions(
    rows, authority, other_authority
):
    train, held_out = rows
    query = held_out[0]["objet"]
    add_rows(authority, train[:10])
    before = suggest(authority, query)
    # The same objet, classified by the other authority under a matière seen nowhere else.
    secret = add_deliberation(other_authority, query, "9.4")
    _routers.clear()
    after = suggest(authority, query)
    assert after == before
    assert "9.4" not in level2_codes(after)
    with tenant_context(authority.pk):
        assert not training_rows(authority.pk, get_embedder().model_id).filter(pk=secret.pk).exists()
    # Published, the very same row counts: the test above could have failed.
    with tenant_context(other_authority.pk):
        Deliberation.objects.filter(pk=secret.pk).update(published=True)
    assert suggest(authority, query) != before


def test_suggest_for_stores_the_suggestions_and_computes_a_missing_embedding(rows, authority):
    train, held_out = rows
    add_rows(authority, train[:10])
    target = add_deliberation(authority, held_out[1]["objet"], embed=False)
    with tenant_context(authority.pk):
        suggestions = suggest_for(target)
        stored = Deliberation.objects.get(pk=target.pk)
    assert stored.matiere_suggestions == suggestions and level2_codes(suggestions)
    assert stored.embedding is not None and stored.embedding_model == get_embedder().model_id
    assert stored.matiere_code == "" and not stored.matiere_confirmed


def test_confirming_sets_the_code_the_scdl_label_path_and_clears_the_suggestions(rows, authority, member):
    _train, held_out = rows
    deliberation = add_deliberation(
        authority,
        held_out[2]["objet"],
        embed=False,
        suggestions=[{"code": "7.5", "label": "Subventions", "level": 2, "score": 0.9}],
    )
    with tenant_context(authority.pk):
        confirm_matiere(deliberation=deliberation, code="7.10", user=member(authority))
        stored = Deliberation.objects.get(pk=deliberation.pk)
    assert (stored.matiere_code, stored.matiere_nom) == ("7.10", "Finances locales/Divers")
    assert stored.matiere_confirmed and stored.matiere_suggestions == []


@pytest.mark.parametrize("code", ["7", "7.99", "", "7.5; DROP"])
def test_confirming_refuses_what_is_not_a_level2_matiere_and_changes_nothing(authority, code):
    deliberation = add_deliberation(authority, "Subvention au club de judo", embed=False)
    with tenant_context(authority.pk), pytest.raises(RoutingError) as refused:
        confirm_matiere(deliberation=deliberation, code=code)
    assert "matière" in str(refused.value)
    with tenant_context(authority.pk):
        stored = Deliberation.objects.get(pk=deliberation.pk)
    assert stored.matiere_code == "" and not stored.matiere_confirmed


def test_the_classification_job_embeds_what_is_missing_and_suggests_for_deliberations_without_matiere(
    rows, authority, run_on_commit
):
    train, held_out = rows
    labelled = [add_deliberation(authority, row["objet"], row["code"], embed=False) for row in train[:8]]
    targets = [add_deliberation(authority, row["objet"], embed=False) for row in held_out[:3]]
    coded = add_deliberation(authority, held_out[3]["objet"], "3.1", embed=False)
    ids = [d.pk for d in [*targets, coded]]
    with run_on_commit(), tenant_context(authority.pk):
        job = enqueue_classification(authority=authority, deliberation_ids=ids)
    with tenant_context(authority.pk):
        job = Job.objects.get(pk=job.pk)
        stored = {d.pk: d for d in Deliberation.objects.all()}
    assert job.state == Job.State.SUCCEEDED and job.progress == 100, job.error
    assert job.result["classified"] == 3 and job.result["embedded"] == len(labelled) + len(targets) + 1
    assert all(level2_codes(stored[t.pk].matiere_suggestions) for t in targets)
    assert stored[coded.pk].matiere_suggestions == [] and stored[coded.pk].matiere_code == "3.1"
    assert all(stored[d.pk].embedding is not None for d in labelled)


def test_nothing_to_classify_queues_no_job(authority):
    with tenant_context(authority.pk):
        assert enqueue_classification(authority=authority, deliberation_ids=[]) is None
        assert not Job.objects.exists()


def test_the_fitted_router_is_reused_until_the_labelled_rows_change(rows, authority):
    train, _held_out = rows
    add_rows(authority, train[:5])
    with tenant_context(authority.pk):
        first = router_for(authority.pk)
        assert router_for(authority.pk) is first
    add_rows(authority, train[5:6])
    with tenant_context(authority.pk):
        assert router_for(authority.pk) is not first


def test_accepting_safe_suggestions_confirms_only_those_at_or_above_the_threshold(authority):
    safe = add_deliberation(
        authority,
        "A",
        embed=False,
        suggestions=[{"code": "7.5", "label": "Subventions", "level": 2, "score": SAFE_SCORE}],
    )
    unsure = add_deliberation(
        authority,
        "B",
        embed=False,
        suggestions=[{"code": "3.1", "label": "Acquisitions", "level": 2, "score": SAFE_SCORE - 0.01}],
    )
    with tenant_context(authority.pk):
        assert accept_safe_suggestions() == 1
        assert Deliberation.objects.get(pk=safe.pk).matiere_code == "7.5"
        assert Deliberation.objects.get(pk=unsure.pk).matiere_code == ""


def test_the_classifier_refuses_to_learn_from_nothing():
    with pytest.raises(ValueError):
        classifier.fit(classifier.Examples(np.zeros((0, 4)), []), None)
    vector = np.asarray(get_embedder().embed_passages([embedding_text_for("Emprunts")])[0])
    examples = classifier.Examples(np.vstack([vector, -vector]), ["7.3", "7.5"])
    router = classifier.fit(examples, None, "knn")
    assert router.ranked(vector, k=1)[0][0] == "7.3"
