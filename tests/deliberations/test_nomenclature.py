"""The @ctes nomenclature loaded by migration from the shipped RetourClassification files."""

import json

import pytest

from apps.deliberations import nomenclature
from apps.deliberations.models import Matiere
from tests.paths import SCDL

RENNES = SCDL / "deliberations-ville-de-rennes-extrait-152.json"

pytestmark = pytest.mark.django_db


def test_migration_loaded_both_levels_and_sub_matieres():
    assert Matiere.objects.filter(level=1).count() == 9
    assert nomenclature.get("7.10").label == "Divers"
    assert nomenclature.get("7.1").label.lower().startswith("d")  # Décisions budgétaires
    assert nomenclature.get("7.10").parent.code == "7"
    assert Matiere.objects.filter(level__gte=3).exists()  # the 2011 file's sub-matières
    assert nomenclature.label_path("7.5") == "Finances locales/Subventions"


def test_loading_again_changes_nothing():
    before = Matiere.objects.count()
    assert nomenclature.load_nomenclature() == before
    assert Matiere.objects.count() == before


def test_labels_match_whatever_the_accents_case_and_punctuation():
    assert nomenclature.match_label("Finances locales/Divers").code == "7.10"
    assert nomenclature.match_label("FINANCES LOCALES / DIVERS").code == "7.10"
    assert nomenclature.match_label("Commande Publique/Actes relatifs a la maitrise d oeuvre").code == "1.6"
    assert nomenclature.match_label("COMMANDE PUBLIQUE").code == "1"
    assert nomenclature.match_label("Subventions").code == "7.5"
    assert nomenclature.match_label("Autres") is None  # names several sub-matières
    assert nomenclature.match_label("Jardinage") is None


def test_a_number_never_stands_silently_for_one_code():
    assert nomenclature.get(7.1) is None
    assert nomenclature.candidates_for_number(7.1) == ["7.1", "7.10"]
    assert nomenclature.candidates_for_number(7.5) == ["7.5"]


def test_every_rennes_label_is_in_the_nomenclature_and_agrees_with_its_number():
    records = json.loads(RENNES.read_text(encoding="utf-8"))
    for record in records:
        matiere = nomenclature.match_label(record["delib_matiere_nom"])
        assert matiere is not None, record["delib_matiere_nom"]
        assert matiere.code in nomenclature.candidates_for_number(record["delib_matiere_code"])
    divers = [r for r in records if nomenclature.match_label(r["delib_matiere_nom"]).code == "7.10"]
    assert divers and all(r["delib_matiere_code"] == 7.1 for r in divers)
