"""The compare tool on deliberations: ours against another authority's *published* one (its copied text,
or its SCDL fields when it has none), pseudonymised, cut when long; a foreign draft is refused like a
missing one; offline it says it needs generative AI. The documents path keeps working."""

import datetime
import re

import pytest

from apps import inference
from apps.ai.calls import Record
from apps.ai.models import Generation
from apps.assistant import services
from apps.assistant.errors import ToolInputError
from apps.assistant.writing.inputs import validate_inputs
from apps.assistant.writing.tools import COMPARE_CHARS, TOOLS
from apps.deliberations.models import Deliberation
from apps.tenants.context import tenant_context
from apps.tenants.models import Authority
from tests.paths import SHARED_DATA

from .support import user_prompt

Task = Generation.Task
PV = SHARED_DATA / "proces-verbaux"
pytestmark = pytest.mark.django_db


def pv_section(filename: str, number: int) -> str:
    """Item `number` of a real Avranches procès-verbal, from its heading to the next one."""
    text = (PV / filename).read_text(encoding="utf-8")
    starts = [(int(m.group(1)), m.start()) for m in re.finditer(r"^\d{4}\.\d{2}\.\d{2} - (\d+) ", text, re.M)]
    begin = next(pos for n, pos in starts if n == number)
    end = next((pos for n, pos in starts if pos > begin), len(text))
    return text[begin:end].strip()


WATER = pv_section("avranches_CM13.09.23_-_PV.txt", 2)  # eau potable: avenant à un groupement de commandes
PLU_OPINION = pv_section("avranches_CM13.09.23_-_PV.txt", 3)  # avis sur le PLU d'une commune voisine
RAPPORTEUR = "Rapporteur : Mme Odile Garnier, adjointe aux finances.\n"


def add(authority, delib_id, objet, *, published, text="", **fields) -> Deliberation:
    with tenant_context(authority.pk):
        return Deliberation.objects.create(
            authority=authority,
            coll_nom=authority.name,
            coll_siret="21500025300018",
            delib_id=delib_id,
            delib_date=datetime.date(2013, 9, 23),
            objet=objet,
            published=published,
            text=text,
            **fields,
        )


@pytest.fixture
def acts(authority, other_authority):
    other_authority.kind, other_authority.population = Authority.Kind.INTERCOMMUNALITE, 52_000
    other_authority.save()
    return {
        "ours": add(
            authority,
            "2013-09-23-2",
            "Syndicat de production d'eau potable du Granvillais et de "
            "l'Avranchin : avenant n°2 à la convention de groupement de commandes",
            published=False,
            text=RAPPORTEUR + WATER,
            matiere_code="1.1",
            matiere_nom="Commande publique/Marchés publics",
        ),
        "theirs": add(
            other_authority,
            "2013-09-23-3",
            "Avis à donner sur le PLU de la commune de Marcey-les-Grèves",
            published=True,
            text=PLU_OPINION,
            matiere_code="2.1",
        ),
        # Saint-Étienne Métropole's CSV row: no text, only what the SCDL says.
        "fields_only": add(
            other_authority,
            "2022.00109",
            "SERVICE PUBLIC DE PRODUCTION ET DE DISTRIBUTION D’EAU "
            "POTABLE SUR LE PERIMETRE DESSERVI PAR L’USINE DE SOLAURE - CHOIX DU DELEGATAIRE",
            published=True,
            matiere_code="1.2",
            matiere_nom="Commande publique/Délégation de service public",
            vote_effectif=123,
            vote_reel=113,
            vote_pour=98,
            vote_contre=10,
            vote_abstention=5,
            decision="Adoptée",
        ),
        "draft": add(
            other_authority,
            "2013-09-23-9",
            "Décision modificative n°2 – budget principal",
            published=False,
            text=pv_section("avranches_CM13.09.23_-_PV.txt", 9),
        ),
    }


def run_compare(authority, user, ids):
    """Checks the inputs as the pages and the API do, then runs the tool as the worker does."""
    with tenant_context(authority.pk):
        generation = Generation.objects.create(
            authority=authority,
            user=user,
            task=Task.COMPARE,
            input=validate_inputs(Task.COMPARE, {"deliberations": ids}),
        )
    return TOOLS[Task.COMPARE].run(generation, Record.of(generation))


def texts_in(prompt: str) -> list[str]:
    return re.findall(r"<texte[^>]*>\n(.*?)\n</texte>", prompt, re.DOTALL)


def test_both_texts_reach_the_model_with_personal_data_masked(authority, member, fake_llm, acts):
    fake_llm.echo = True
    fields = run_compare(authority, member(authority), [acts["ours"].pk, acts["theirs"].pk])
    [request] = fake_llm.generation_requests()
    a, b = texts_in(user_prompt(request))
    assert "Titre : Syndicat de production d'eau potable" in a and "Type : Délibération" in a
    assert "construction de deux usines" in a and "Date : 23/09/2013" in a
    assert "Collectivité : Commune A (Commune)" in a and "Matière : 1.1 Commande publique/Marchés publics" in a
    assert "Garnier" not in user_prompt(request) and "Mme [PERSONNE_1]" in a
    assert "MARCEY LES GREVES" in b and "Collectivité : Commune B (Intercommunalité, 52\u202f000 habitants)" in b
    # The echo comes back with the name restored: the whole pair went through the tool.
    assert "Odile Garnier" in fields["output"] and "MARCEY LES GREVES" in fields["output"]
    info = fields["result"]["deliberations"]
    assert [(d["label"], d["deliberation_id"], d["same_authority"]) for d in info] == [
        ("A", acts["ours"].pk, True),
        ("B", acts["theirs"].pk, False),
    ]
    assert info[1]["authority"] == "Commune B"


def test_a_deliberation_without_text_is_compared_on_its_scdl_fields(authority, member, fake_llm, acts):
    run_compare(authority, member(authority), [acts["ours"].pk, acts["fields_only"].pk])
    b = texts_in(user_prompt(fake_llm.generation_requests()[0]))[1]
    assert "Vote : 98 pour, 10 contre, 5 abstentions (123 en exercice, 113 votants)" in b
    assert "Matière : 1.2 Commande publique/Délégation de service public" in b and "Décision : adoptée" in b
    assert "Texte intégral non disponible" in b and "Numéro : 2022.00109" in b


def test_a_long_deliberation_is_cut_and_the_result_says_so(authority, member, fake_llm, acts):
    whole = "\n\n".join(pv_section("avranches_CM13.09.23_-_PV.txt", n) for n in (2, 3, 4, 6, 7, 8, 9))
    assert len(whole) > COMPARE_CHARS
    with tenant_context(authority.pk):
        Deliberation.objects.filter(pk=acts["ours"].pk).update(text=whole)
    fields = run_compare(authority, member(authority), [acts["theirs"].pk, acts["ours"].pk])
    request = fake_llm.generation_requests()[0]
    assert "seul son début t'est donné" in request.json["messages"][0]["content"]
    assert [d["truncated"] for d in fields["result"]["deliberations"]] == [False, True]
    assert fields["result"]["notice"].startswith("Comparaison partielle : seuls les ")
    assert "« Syndicat de production d'eau potable" in fields["result"]["notice"]


@pytest.mark.parametrize("which", ["draft", "missing"])
def test_a_foreign_draft_is_refused_like_a_missing_deliberation(authority, member, fake_llm, acts, which):
    other = acts["draft"].pk if which == "draft" else acts["draft"].pk + 1000
    with pytest.raises(ToolInputError) as error:
        run_compare(authority, member(authority), [acts["ours"].pk, other])
    assert error.value.user_message == "Délibération introuvable."
    assert fake_llm.generation_requests() == []


def test_the_other_authority_cannot_read_our_unpublished_deliberation(other_authority, member, fake_llm, acts):
    with pytest.raises(ToolInputError) as error:
        run_compare(other_authority, member(other_authority), [acts["theirs"].pk, acts["ours"].pk])
    assert error.value.user_message == "Délibération introuvable."


def test_offline_the_comparison_says_it_needs_generative_ai(authority, member, offline, acts):
    with pytest.raises(inference.InferenceNotConfigured) as error:
        run_compare(authority, member(authority), [acts["ours"].pk, acts["theirs"].pk])
    assert "pas configurée" in error.value.user_message


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"deliberations": [4]}, "Choisissez deux délibérations à comparer."),
        ({"deliberations": ["4", 4]}, "Choisissez deux délibérations différentes."),
        ({"deliberations": [4, "x"]}, "Choisissez deux délibérations à comparer."),
        (
            {"deliberations": [4, 5], "documents": [6, 7]},
            "Choisissez deux documents ou deux délibérations, pas les deux.",
        ),
    ],
)
def test_an_incomplete_pair_is_refused_in_french(data, message):
    with pytest.raises(ToolInputError) as error:
        validate_inputs(Task.COMPARE, data)
    assert error.value.user_message == message


def test_ids_from_a_form_become_integers():
    assert validate_inputs(Task.COMPARE, {"deliberations": ["12", 7]}) == {"deliberations": [12, 7]}
    assert validate_inputs(Task.COMPARE, {"documents": ["12", 7]}) == {"documents": [12, 7]}


def test_end_to_end_the_worker_finishes_the_generation(authority, member, fake_llm, run_on_commit, acts):
    fake_llm.answer = "| Élément | Document A | Document B |\n|---|---|---|\n| Objet | Eau potable | PLU |"
    user = member(authority)
    inputs = validate_inputs(Task.COMPARE, {"deliberations": [acts["ours"].pk, acts["theirs"].pk]})
    with run_on_commit(), tenant_context(authority.pk):
        generation = services.request_tool(authority=authority, user=user, task=Task.COMPARE, inputs=inputs)
    with tenant_context(authority.pk):
        generation = Generation.objects.get(pk=generation.pk)
    assert generation.outcome == Generation.Outcome.DONE and generation.mode == Generation.Mode.GENERATIVE
    assert generation.output.startswith("| Élément") and generation.pseudonymised >= 1
    assert [d["title"] for d in generation.result["deliberations"]] == [
        " ".join(acts["ours"].objet.split()),
        acts["theirs"].objet,
    ]
    assert generation.template.startswith("compare")


def test_the_generic_tools_api_takes_deliberations_and_the_audit_names_them(
    authority, member, fake_llm, acts, api_client_for, run_on_commit
):
    from apps.ai import audit

    client = api_client_for(member(authority))
    with run_on_commit():
        response = client.post(
            "/api/v1/assistant/tools/compare/",
            {"deliberations": [acts["ours"].pk, acts["theirs"].pk], "stream": False},
            format="json",
        )
    assert response.status_code == 202, response.content
    with tenant_context(authority.pk):
        generation = Generation.objects.get(pk=response.json()["id"])
        assert generation.input["deliberations"] == [acts["ours"].pk, acts["theirs"].pk]
        assert f"délibérations {acts['ours'].pk}, {acts['theirs'].pk}" in audit.row(generation)
