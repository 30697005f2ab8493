"""Rules that find deliberations in real council minutes. Every count asserted here was checked by
reading the minutes themselves (Avranches procès-verbaux, Couthenans comptes rendus)."""

from datetime import date

import pytest

from apps.deliberations.minutes.attendance import attendance, session_date
from apps.deliberations.minutes.extraction import propose_deliberations
from apps.deliberations.minutes.rules import propose
from apps.deliberations.minutes.text import assemble, count_names

from .support import AVRANCHES, COUTHENANS, pages_of


def by_objet(proposals, words: str):
    found = [p for p in proposals if words.lower() in p.objet.lower()]
    assert len(found) == 1, [p.objet for p in proposals]
    return found[0]


@pytest.fixture(scope="module")
def avranches_2017():
    return propose(pages_of(AVRANCHES / "avranches_CM04.07.2017_-_PV.txt"))


def test_avranches_2017_gives_one_proposal_per_vote_and_none_for_the_election(avranches_2017):
    proposals, day, presence = avranches_2017
    # 19 numbered points; point 3 holds 7 separate votes (A to G), point 1 bis is a ballot, not a deliberation.
    assert len(proposals) == 25
    assert day == date(2017, 7, 4)
    assert (presence.exercice, presence.presents, presence.pouvoirs, presence.votants) == (29, 20, 9, 29)
    assert not any("SENATORIAUX" in p.objet for p in proposals)
    assert [p.number for p in proposals].count("3") == 7


def test_avranches_2017_counts_named_opponents_abstentions_and_a_member_out_of_the_vote(avranches_2017):
    proposals = avranches_2017[0]
    quartier_nature = by_objet(proposals, "QUARTIER NATURE")
    # « à l'exception de Madame Leroy, Messieurs Siri, Huet, Morazin, Mesdames Mazier, Seille qui votent contre »
    assert (quartier_nature.vote_pour, quartier_nature.vote_contre, quartier_nature.vote_abstention) == (23, 6, 0)
    assert quartier_nature.votes_derived and quartier_nature.decision == "Adoptée"
    trophynette = by_objet(proposals, "TROPHYNETTE")  # Cossec out of the vote, 4 against, 2 abstain
    assert (trophynette.vote_reel, trophynette.vote_pour, trophynette.vote_contre, trophynette.vote_abstention) == (
        28,
        22,
        4,
        2,
    )
    canteen = by_objet(proposals, "RESTAURATION SCOLAIRE")
    assert canteen.decision == "Adoptée à l'unanimité" and canteen.vote_pour == 29 and canteen.page == 6
    assert "UNANIMITE" in canteen.excerpt


def test_avranches_2013_reads_written_counts_and_an_acknowledged_report():
    proposals = propose_deliberations(pages_of(AVRANCHES / "avranches_CM_04_02_2013_-_PV.txt"))
    assert len(proposals) == 13  # points 1 to 12, point 4 in two votes; point 13 is information only
    sale = by_objet(proposals, "CESSION IMMEUBLE RUE DE LA LIBERTE")
    # « A LA MAJORITE (22 VOTES « POUR », 5 VOTES « CONTRE ») »
    assert (sale.vote_pour, sale.vote_contre, sale.vote_reel, sale.votes_derived) == (22, 5, 27, False)
    assert sale.decision == "Adoptée à la majorité"
    assert by_objet(proposals, "RAPPORT D’ACTIVITES").decision == "Prend acte"
    sablonnieres = by_objet(proposals, "SABLONNIERES")  # « (MADAME DUTEIL NE PARTICIPE PAS AU VOTE) »
    assert (sablonnieres.vote_reel, sablonnieres.vote_pour) == (27, 27)


def test_ocr_noise_and_a_table_of_contents_do_not_make_false_proposals():
    proposals, day, _ = propose(pages_of(AVRANCHES / "avranches_CM_16.04.11_-_Procè-verbal.txt"))
    assert day == date(2016, 4, 11)  # the contents page names another meeting; the title page says 11 avril 2016
    # 18 questions with a vote; questions 2, 7 and 10 hold 4, 3 and 5 votes; question 19 is a report.
    assert len(proposals) == 27
    assert {p.number for p in proposals} == {str(n) for n in range(1, 19)}
    mangled = by_objet(proposals, "POLITIQUE DE LA VILLE : VERSEMENT")  # « A luwowiuiÏe, ACCEPÏE »
    assert mangled.decision == "Adoptée à l'unanimité" and mangled.confidence < 0.7
    assert any("OCR" in note for note in mangled.notes)
    budget = by_objet(proposals, "BUDGET DE L'EXERCICE 2016")
    assert (budget.vote_contre, budget.vote_pour) == (6, 22)  # 23 present + 5 proxies = 28 voters


def test_couthenans_pdf_with_roman_numbers_and_per_association_votes():
    proposals, day, presence = propose(pages_of(COUTHENANS / "CR_reunion_20210129.pdf"))
    assert day == date(2021, 1, 29)
    assert (presence.presents, presence.pouvoirs, presence.votants) == (10, 4, 14)
    assert [p.number for p in proposals] == ["I", "II", "III", "III"]
    accdm = by_objet(proposals, "ACCDM")  # « ADOPTÉ 9 voix pour, 5 abstentions. »
    assert (accdm.vote_pour, accdm.vote_abstention, accdm.vote_reel, accdm.decision) == (9, 5, 14, "Adoptée")
    assert by_objet(proposals, "PADD").vote_pour == 14  # unanimity of the 10 present and 4 proxies


def test_couthenans_rejected_item_and_items_without_vote():
    proposals = propose_deliberations(pages_of(COUTHENANS / "CR_conseil_municipal_28_10_2022.pdf"))
    assert [p.number for p in proposals] == ["2", "3", "4", "5", "6"]  # 1 and 7 carry no vote
    rule = by_objet(proposals, "questions diverses")  # « 6 voix Contre, 0 Abstention, 5 pour »
    assert (rule.decision, rule.vote_pour, rule.vote_contre) == ("Rejetée", 5, 6)


def test_plain_text_styles_from_other_minutes():
    text = (
        "Séance du 4 juillet 2017\nConseillers en exercice : 27 - Présents : 20 - Pouvoirs : 3\n"
        "Objet : Tarifs de la cantine\nLe conseil municipal, après en avoir délibéré, par 20 voix pour, "
        "3 contre, adopte les tarifs.\n\nObjet : Vente d'un terrain\nPour : 19 – Contre : 2 – Abstentions : 2\n\n"
        "Objet : Motion pour le bureau de poste\nLe point est retiré de l'ordre du jour.\n"
    )
    proposals, day, presence = propose(text)
    assert day == date(2017, 7, 4) and presence.votants == 23 and presence.exercice == 27
    assert [(p.objet, p.vote_pour, p.vote_contre, p.vote_abstention) for p in proposals] == [
        ("Tarifs de la cantine", 20, 3, 0),
        ("Vente d'un terrain", 19, 2, 2),
        ("Motion pour le bureau de poste", None, None, None),
    ]
    assert proposals[2].decision == "Retirée de l'ordre du jour"
    assert proposals[0].vote_effectif == 27


def test_unanimity_without_attendance_leaves_votes_empty():
    proposals = propose_deliberations("1/ Travaux de voirie\nLe conseil approuve le devis.\nADOPTÉ à l'unanimité.\n")
    assert len(proposals) == 1
    assert proposals[0].decision == "Adoptée à l'unanimité"
    assert proposals[0].vote_pour is None and proposals[0].vote_reel is None


def test_counting_names_in_vote_formulas():
    assert count_names("madame leroy, messieurs siri, huet, morazin, mesdames \n\nmazier, seille ") == 6
    assert count_names("madame leroy et monsieur morazin, ") == 2
    assert count_names("mme restoux, mm. gouedard et tache") == 3


def test_session_date_ignores_notice_and_previous_minutes_dates():
    text = assemble(
        "Date de l'avis de convocation : 27 juin 2017\nCompte rendu de la séance du 6 mars 2017\n"
        "Réunion du conseil municipal du mardi 4 juillet 2017\n"
    )
    assert session_date(text) == date(2017, 7, 4)
    assert attendance("29\n").votants is None


LATE_ARRIVAL = """VILLE D'EXEMPLE
PROCES VERBAL DE LA RÉUNION DU CONSEIL MUNICIPAL DU LUNDI 2 MARS 2020
Nombre de conseillers
en exercice :
Nombre de conseillers
en séance :
Pouvoirs :
11
8
2
Étaient présents : M. DUPONT, Maire
MME MARTIN, M. BERNARD, adjoints,
MMES PETIT (À PARTIR DE LA QUESTION N°2), DURAND, MM LEROUX, MOREAU, FAURE, conseillers municipaux,
Pouvoirs
Madame A. GIRARD a donné pouvoir à Monsieur B. DUPONT
Monsieur C. ROUX a donné pouvoir à Madame D. MARTIN
2020.03.02 - 1 ADOPTION DU COMPTE RENDU DE LA SEANCE DU 3 FEVRIER 2020
LE CONSEIL MUNICIPAL, A L'UNANIMITE, ACCEPTE CETTE PROPOSITION
2020.03.02 - 2 TARIFS DE LA CANTINE
LE CONSEIL MUNICIPAL, A L'EXCEPTION DE MADAME DURAND QUI VOTE CONTRE, ACCEPTE CETTE PROPOSITION
"""


def test_a_member_arriving_at_question_2_is_not_counted_in_question_1():
    proposals, day, presence = propose(LATE_ARRIVAL)
    assert day == date(2020, 3, 2) and presence.votants == 10
    assert [(p.vote_reel, p.vote_pour, p.vote_contre) for p in proposals] == [(9, 9, 0), (10, 9, 1)]


def test_misread_attendance_gives_no_votes_rather_than_wrong_ones():
    # OCR dropped the table's numbers; « 2 » would otherwise be taken for the members present
    text = "Nombre de conseillers en exercice : 29\n2 présents\n1/ Budget\nADOPTÉ à l'unanimité.\n"
    proposal = propose_deliberations(text)[0]
    assert proposal.decision == "Adoptée à l'unanimité" and proposal.vote_pour is None


def test_date_written_in_words_when_the_figures_are_mangled():
    text = assemble("DU LUNDI 06 MaS 2017\nL'an deux mille dix-sept, le six mars, le conseil municipal…")
    assert session_date(text) == date(2017, 3, 6)
