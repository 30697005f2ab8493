"""Embeddings of deliberations: the text embedded (never the matière), and `ensure_embeddings` computing
only what is missing or from another model, for the current authority's rows only."""

import pytest

from apps.deliberations.models import Deliberation
from apps.deliberations.vectors import clean_objet, embedding_text, embedding_text_for, ensure_embeddings
from apps.documents.embeddings import get_embedder
from apps.tenants.context import tenant_context

from .routing.support import add_deliberation

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "objet, cleaned",
    [
        (
            "DCM 2023-0461 - Rapport_activites_Developpement_durable_RM_2022",
            "Rapport activites Developpement durable RM 2022",
        ),
        ("DCM2022-0114 - Aménagement  Cession", "Aménagement Cession"),
        ("DCM 2023-0398 - ProvisionDiversiteCulturelle - Subvention", "Provision Diversite Culturelle - Subvention"),
        ("12 rue de la Paix - Acquisition", "12 rue de la Paix - Acquisition"),
        ("ZAC 2 - Avenant", "ZAC 2 - Avenant"),
        ("PLAN LOCAL D’URBANISME (PLU) DE ROCHE-LA-MOLIERE", "PLAN LOCAL D’URBANISME (PLU) DE ROCHE-LA-MOLIERE"),
    ],
)
def test_the_objet_is_embedded_as_words_without_its_act_number(objet, cleaned):
    assert clean_objet(objet) == cleaned


def test_the_embedded_text_is_the_objet_and_the_start_of_the_text_never_the_matiere(authority):
    deliberation = add_deliberation(
        authority,
        "Soutien aux radios locales",
        "7.5",
        embed=False,
        text="Le conseil municipal,\n\nVu le code général " + "x" * 5000,
    )
    embedded = embedding_text(deliberation)
    assert embedded.startswith("Soutien aux radios locales\nLe conseil municipal, Vu le code général")
    assert "Subventions" not in embedded and "Finances" not in embedded
    assert len(embedded) < 1600
    assert embedding_text_for("Soutien aux radios locales") == "Soutien aux radios locales"


def test_missing_and_outdated_embeddings_are_computed_once_and_updated_at_is_kept(authority):
    missing = add_deliberation(authority, "Tarifs de la piscine municipale", embed=False)
    outdated = add_deliberation(authority, "Tarifs de la médiathèque", embed=False)
    current = add_deliberation(authority, "Tarifs du conservatoire")
    with tenant_context(authority.pk):
        Deliberation.objects.filter(pk=outdated.pk).update(embedding=[0.0] * 384, embedding_model="old/model")
        rows = list(Deliberation.objects.order_by("pk"))
        before = {d.pk: d.updated_at for d in rows}
        assert ensure_embeddings(rows) == 2
        assert ensure_embeddings(list(Deliberation.objects.all())) == 0
        stored = {d.pk: d for d in Deliberation.objects.all()}
    model_id = get_embedder().model_id
    assert all(d.embedding_model == model_id and d.embedding is not None for d in stored.values())
    assert all(stored[pk].updated_at == before[pk] for pk in before)
    assert abs(float(sum(v * v for v in stored[missing.pk].embedding)) - 1.0) < 1e-3
    assert list(stored[current.pk].embedding) == list(current.embedding)


def test_another_authoritys_published_row_is_skipped_not_silently_counted(authority, other_authority):
    theirs = add_deliberation(other_authority, "Vœu relatif à la scolarisation", embed=False, published=True)
    with tenant_context(authority.pk):
        visible = list(Deliberation.all_tenants.filter(pk=theirs.pk))
        assert len(visible) == 1  # readable: it is published
        assert ensure_embeddings(visible) == 0
    with tenant_context(other_authority.pk):
        assert Deliberation.objects.get(pk=theirs.pk).embedding is None


def test_progress_is_reported_per_batch(authority):
    rows = [add_deliberation(authority, f"Objet n°{n} : convention de partenariat", embed=False) for n in range(3)]
    calls = []
    with tenant_context(authority.pk):
        assert ensure_embeddings(rows, on_batch=lambda done, total: calls.append((done, total))) == 3
    assert calls == [(3, 3)]
