"""Personal data never reaches the model: people, e-mails, phones, addresses, NIR and IBAN become
placeholders, the same person keeps one placeholder across a request, and the answer gets them back."""

import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from apps.ai.pseudonymise import pseudonymise
from tests.paths import SHARED_DATA

AVRANCHES = SHARED_DATA / "proces-verbaux"

CITIZEN_LETTER = """Bonjour Madame la Maire,
Je me permets de vous écrire au sujet du stationnement devant chez moi, au 12 rue Victor Hugo, 50300 Avranches.
Mon voisin, M. Jean-Pierre Lefèvre, gare sa camionnette sur le trottoir tous les soirs. J'en ai parlé à
Mme Durand, adjointe, sans résultat.
Vous pouvez me joindre au 06 12 34 56 78 ou par courriel : claire.martin@orange.fr.
Cordialement,
Claire Martin"""
CITIZEN_LETTER_PERSONAL = [
    "12 rue Victor Hugo",
    "50300",
    "Jean-Pierre",
    "Lefèvre",
    "Durand",
    "06 12 34 56 78",
    "claire.martin@orange.fr",
    "Claire",
    "Martin",
]

CCAS_REQUEST = """Objet : demande d'aide au CCAS
Je soussigné Karim Benali, demeurant 4 bis allée des Tilleuls à Granville, sollicite une aide exceptionnelle.
Mon numéro de sécurité sociale est 1 85 03 75 116 238 91 et mon IBAN FR76 3000 6000 0112 3456 7890 189.
Ma fille Inès est scolarisée à l'école Jules Ferry. Téléphone : +33 7 81 22 33 44."""
CCAS_REQUEST_PERSONAL = [
    "Karim",
    "Benali",
    "4 bis allée des Tilleuls",
    "1 85 03 75 116 238 91",
    "FR76 3000 6000 0112 3456 7890 189",
    "Inès",
    "+33 7 81 22 33 44",
]


@pytest.mark.parametrize(
    ("message", "personal"), [(CITIZEN_LETTER, CITIZEN_LETTER_PERSONAL), (CCAS_REQUEST, CCAS_REQUEST_PERSONAL)]
)
def test_realistic_citizen_message_keeps_nothing_personal_and_restores_exactly(message, personal):
    result = pseudonymise(message)
    assert [value for value in personal if value in result.text] == []
    assert result.restore(result.text) == message


def test_person_is_replaced_and_restored():
    result = pseudonymise("Le dossier de Jean Dupont est complet.")
    assert result.text == "Le dossier de [PERSONNE_1] est complet."
    assert result.mapping == {"[PERSONNE_1]": "Jean Dupont"}
    assert result.restore("Le dossier de [PERSONNE_1] est transmis.") == "Le dossier de Jean Dupont est transmis."


@pytest.mark.parametrize(
    "text",
    ["M. Dupont", "Mme Durand", "Madame Sophie Durand", "Monsieur N. FERREIRA", "MME COCHAT", "Madame M. FAUCHON"],
)
def test_civility_stays_outside_the_placeholder(text):
    civility = text.split()[0]
    assert pseudonymise(f"Courrier de {text} reçu.").text == f"Courrier de {civility} [PERSONNE_1] reçu."


def test_a_couple_and_a_list_of_councillors_are_masked_after_their_civility():
    assert (
        pseudonymise("Monsieur et Madame Yves MEHEUT, domiciliés à Avranches").text
        == "Monsieur et Madame [PERSONNE_1], domiciliés à Avranches"
    )
    assert pseudonymise("MMES PARENT, CAPELLE, MM LAINE, PENNEC").text == (
        "MMES [PERSONNE_1], [PERSONNE_2], MM [PERSONNE_3], [PERSONNE_4]"
    )


@pytest.mark.parametrize(
    "text",
    [
        "Monsieur le Maire signe la convention.",
        "Madame la Préfète a répondu.",
        "Le Conseil municipal approuve le budget de la Commune.",
        "La Mairie est fermée le lundi.",
    ],
)
def test_institutional_words_are_not_masked(text):
    assert pseudonymise(text).text == text


def test_text_without_personal_data_is_unchanged():
    text = (
        "La réunion du Conseil municipal est fixée au jeudi 12 mars à 18 h en Mairie. L'ordre du jour porte "
        "sur le budget 2026 (1 250 000 €) et sur la rénovation de la salle des fêtes."
    )
    result = pseudonymise(text)
    assert (result.text, result.mapping) == (text, {})


def test_email_is_replaced():
    assert pseudonymise("Écrire à jean.dupont+cantine@mairie-avranches.fr svp").text == "Écrire à [EMAIL_1] svp"


@pytest.mark.parametrize(
    "phone",
    [
        "06 12 34 56 78",
        "06.12.34.56.78",
        "06-12-34-56-78",
        "0612345678",
        "+33 6 12 34 56 78",
        "+33 (0)6 12 34 56 78",
        "+33612345678",
        "02 33 58 00 00",
    ],
)
def test_french_phone_numbers_are_replaced(phone):
    assert pseudonymise(f"Appelez le {phone} demain.").text == "Appelez le [TEL_1] demain."


def test_address_with_postcode_and_city_is_one_address_not_a_person():
    result = pseudonymise("J'habite 12 rue Victor Hugo, 50300 Avranches depuis 2019.")
    assert result.text == "J'habite [ADRESSE_1] depuis 2019."
    assert result.mapping == {"[ADRESSE_1]": "12 rue Victor Hugo, 50300 Avranches"}


@pytest.mark.parametrize(
    "address",
    [
        "5 bis rue de Lille",
        "25, place Patton",
        "7 rue du Général de Gaulle",
        "1 et 3 rue des Fossés",
        "40 avenue de la Gare",
        "3 impasse des Lilas",
        "18 boulevard Léon Jouhaux",
        "2 allée des Tilleuls",
        "14 chemin du Moulin",
    ],
)
def test_street_addresses_are_replaced(address):
    assert pseudonymise(f"Le logement situé {address} est libre.").text == "Le logement situé [ADRESSE_1] est libre."


def test_a_street_named_after_someone_is_not_a_person():
    text = "Les travaux de la rue Victor Hugo et de la salle Victor HUGO commencent lundi."
    assert pseudonymise(text).text == text


@pytest.mark.parametrize("nir", ["1 85 03 75 116 238 91", "185037511623891", "2 91 12 2A 004 512 07"])
def test_social_security_number_is_replaced(nir):
    assert pseudonymise(f"NIR : {nir}.").text == "NIR : [NIR_1]."


@pytest.mark.parametrize(
    "iban", ["FR76 3000 6000 0112 3456 7890 189", "FR7630006000011234567890189", "DE89 3704 0044 0532 0130 00"]
)
def test_iban_is_replaced(iban):
    assert pseudonymise(f"Virement sur {iban} merci").text == "Virement sur [IBAN_1] merci"


def test_a_reference_shaped_like_a_foreign_iban_with_a_wrong_checksum_is_kept():
    text = "Référence du marché : AB12 3456 7890 1234 56."
    assert pseudonymise(text).text == text


def test_same_person_keeps_one_placeholder_across_texts_sharing_known():
    known: dict[str, str] = {}
    question = pseudonymise("Quand Mme Durand a-t-elle déposé sa demande ?", known=known)
    passage = pseudonymise("Madame Durand a déposé un dossier ; M. Martin l'a instruit.", known=known)
    history = pseudonymise("Durand a relancé la mairie.", known=known)  # no civility: found through `known`
    assert question.text == "Quand Mme [PERSONNE_1] a-t-elle déposé sa demande ?"
    assert passage.text == "Madame [PERSONNE_1] a déposé un dossier ; M. [PERSONNE_2] l'a instruit."
    assert history.text == "[PERSONNE_1] a relancé la mairie."
    assert known == {"[PERSONNE_1]": "Durand", "[PERSONNE_2]": "Martin"}
    assert history.restore("[PERSONNE_2] répond à [PERSONNE_1].") == "Martin répond à Durand."


def test_new_placeholders_never_reuse_a_number_already_in_known():
    known = {"[PERSONNE_2]": "Martin"}
    assert pseudonymise("Mme Durand a écrit.", known=known).text == "Mme [PERSONNE_3] a écrit."
    assert pseudonymise("M. Petit aussi.", known=known).text == "M. [PERSONNE_4] aussi."


@pytest.mark.parametrize("written", ["[PERSONNE_1]", "PERSONNE_1", "[personne_1]", "[Personne 1]", "[ PERSONNE_1 ]"])
def test_restore_tolerates_how_the_model_writes_a_placeholder(written):
    result = pseudonymise("M. Dupont a appelé.")
    assert result.restore(f"Rappeler {written} demain.") == "Rappeler Dupont demain."


def test_restore_leaves_the_word_personne_and_unknown_placeholders_alone():
    result = pseudonymise("M. Dupont a appelé.")
    text = "Personne n'a répondu à [PERSONNE_9] ; personne 1 fois."
    assert result.restore(text) == text


def test_real_minutes_lose_their_councillors_names_and_come_back_exactly():
    minutes = (AVRANCHES / "avranches_CM04.07.2017_-_PV.txt").read_text()
    passage = minutes[minutes.index("Pouvoirs") : minutes.index("Secrétaire de séance")]
    result = pseudonymise(passage)
    for surname in ("COCHAT", "FERREIRA", "DELAUNEY", "CAPELLE", "FAUVEL", "ROSTOLAN", "MAZIER"):
        assert surname not in result.text
    assert "Madame [PERSONNE_" in result.text and "a donné pouvoir à Monsieur [PERSONNE_" in result.text
    assert result.restore(result.text) == passage


def test_worker_threads_get_the_same_result_as_one_thread():
    texts = [CITIZEN_LETTER, CCAS_REQUEST] * 8
    expected = [pseudonymise(text).text for text in texts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(lambda text: pseudonymise(text).text, texts)) == expected


def test_a_citizen_message_takes_milliseconds_once_warm():
    message = (CITIZEN_LETTER * 2)[:500]
    pseudonymise(message)
    durations = []
    for _ in range(10):
        started = time.perf_counter()
        pseudonymise(message)
        durations.append(time.perf_counter() - started)
    # About 15 ms on a 2-core machine; the bound leaves room for a loaded CI runner.
    assert statistics.median(durations) < 0.1
