"""The promises of the « facilitée par l'IA à NN % » figure, on fictitious town-hall replies: what the agent
moves, cuts, re-punctuates or signs differently stays the AI's; what the agent writes is not, even when it restates
the draft's facts in the same few words."""

import pytest

from apps.inbox.ai_share import ALGORITHM_VERSION, MIN_TILE_WORDS, ai_share, body_words, tiles


def letter(greeting: str, paragraphs: list[str], closing: str) -> str:
    return "\n\n".join([greeting, *paragraphs, closing])


POTHOLE_GREETING = "Objet : Nid-de-poule rue des Tilleuls\n\nMadame,"
POTHOLE = [
    "Nous vous remercions pour votre signalement du 3 mars concernant le nid-de-poule situé au droit du 14 rue des "
    "Tilleuls. Votre message a été transmis le jour même au service Voirie de la commune.",
    "Un agent s'est rendu sur place le 5 mars. Il a constaté une dégradation de la chaussée d'environ quarante "
    "centimètres de diamètre, dangereuse pour les cyclistes. Un balisage provisoire a été installé dans l'après-midi.",
    "La réparation définitive nécessite un enrobé à chaud, qui ne peut être posé que par temps sec. L'intervention "
    "est programmée dans la semaine du 18 mars, sous réserve des conditions météorologiques.",
    "Si vous avez subi un dommage matériel, vous pouvez adresser une déclaration à la mairie, accompagnée de "
    "photographies et de la facture de réparation. Elle sera transmise à l'assureur de la commune.",
]
POTHOLE_CLOSING = (
    "Je vous prie d'agréer, Madame, l'expression de mes salutations distinguées.\n\n"
    "Pour le Maire et par délégation,\nClaire Besnard\nAdjointe déléguée à la voirie"
)
POTHOLE_DRAFT = letter(POTHOLE_GREETING, POTHOLE, POTHOLE_CLOSING)

BULKY_WASTE = [
    "Vous nous avez demandé comment faire enlever un canapé et un réfrigérateur. Le ramassage des encombrants est "
    "assuré gratuitement par la communauté de communes, sur rendez-vous uniquement.",
    "Pour obtenir un rendez-vous, il suffit d'appeler le service Déchets au 02 99 00 00 00, du lundi au vendredi de "
    "9 h à 12 h. Le prochain passage dans votre quartier est prévu le mardi 16 avril.",
    "Les objets doivent être déposés la veille au soir devant votre domicile, sans gêner le passage des piétons. Les "
    "gravats, les pneus et les déchets verts ne sont pas collectés : ils doivent être apportés à la déchèterie.",
]
BULKY_WASTE_DRAFT = letter(
    "Monsieur,", BULKY_WASTE, "Bien cordialement,\n\nLe service Accueil\nMairie de Saint-Aubin-des-Landes"
)

CANTEEN = [
    "Vous contestez la facture de restauration scolaire du mois de janvier, d'un montant de 68,40 €, au motif que "
    "votre fille était absente du 15 au 19 janvier. Après vérification auprès du service Enfance, cette absence "
    "n'avait pas été signalée dans le délai prévu par le règlement intérieur.",
    "Le règlement prévoit toutefois une exception en cas de maladie, sur présentation d'un certificat médical. Si "
    "vous nous transmettez ce certificat avant le 28 février, les cinq repas concernés seront déduits de votre "
    "prochaine facture.",
]
CANTEEN_DRAFT = letter(
    "Madame, Monsieur,",
    CANTEEN,
    "Restant à votre disposition, je vous prie d'agréer, Madame, Monsieur, l'expression de mes salutations "
    "distinguées.\n\nLe service Enfance",
)


def test_sending_the_draft_unchanged_is_100_percent():
    share = ai_share(POTHOLE_DRAFT, POTHOLE_DRAFT)
    assert (share.percent, share.covered_words) == (100, share.counted_words)
    assert share.version == ALGORITHM_VERSION


def test_swapping_paragraphs_keeps_100_percent():
    swapped = letter(POTHOLE_GREETING, POTHOLE[::-1], POTHOLE_CLOSING)
    assert ai_share(POTHOLE_DRAFT, swapped).percent == 100
    assert len(tiles(POTHOLE_DRAFT, swapped)) == len(POTHOLE)  # each paragraph found whole, in its new place


def test_a_reply_written_from_scratch_is_0_percent():
    own = letter(
        "Bonjour Madame,",
        [
            "Merci de nous avoir prévenus. Le trou devant le numéro 14 sera rebouché mi-mars, dès qu'il fera sec : "
            "en attendant, nos équipes ont posé des barrières autour. Pour un pneu ou une jante abîmés, envoyez-nous "
            "vos photos avec la facture du garagiste, nous ferons suivre à notre assureur."
        ],
        "Cordialement,\nClaire Besnard",
    )
    assert tiles(POTHOLE_DRAFT, own) == []
    assert ai_share(POTHOLE_DRAFT, own).percent == 0


def test_a_reply_written_from_scratch_that_restates_the_facts_is_0_percent():
    # The agent retypes the address, the dates, « un enrobé à chaud », « la facture de réparation »: runs of 3 to 6
    # words that tiling-v1 counted (21 words, 29 %), each alone in the agent's own sentences.
    own = letter(
        "Bonjour Madame,",
        [
            "Merci de votre signalement. Nos agents sont passés au 14 rue des Tilleuls le 5 mars et ont mesuré un trou "
            "d'une quarantaine de centimètres, qu'ils ont entouré de barrières.",
            "Il faudra attendre que le temps se sèche pour poser un enrobé à chaud : le chantier aura lieu dans la "
            "semaine du 18 mars. En cas de dégâts sur votre vélo ou votre voiture, envoyez-nous des photographies et "
            "la facture de réparation.",
        ],
        "Cordialement,\nClaire Besnard",
    )
    words = body_words(own)
    retyped = [" ".join(words[i : i + n]) for i, _, n in tiles(POTHOLE_DRAFT, own, long_words=MIN_TILE_WORDS)]
    assert "14 rue des Tilleuls" in retyped and "la facture de réparation." in retyped
    assert tiles(POTHOLE_DRAFT, own) == []
    assert ai_share(POTHOLE_DRAFT, own).percent == 0


def test_a_reworded_sentence_in_an_untouched_draft_keeps_its_short_surviving_runs():
    reworded = POTHOLE[2].replace(
        "La réparation définitive nécessite un enrobé à chaud, qui ne peut être posé que par temps sec.",
        "Pour la réparation définitive, il faut un enrobé à chaud, que l'on ne pose que par temps sec.",
    )
    sent = letter(POTHOLE_GREETING, [POTHOLE[0], POTHOLE[1], reworded, POTHOLE[3]], POTHOLE_CLOSING)
    words = body_words(sent)
    runs = [" ".join(words[i : i + n]) for i, _, n in tiles(POTHOLE_DRAFT, sent)]
    # Shorter than LONG_TILE_WORDS, but next to the untouched text before and after: anchored, so counted.
    assert {"la réparation définitive,", "un enrobé à chaud,"} <= set(runs)
    share = ai_share(POTHOLE_DRAFT, sent)
    agents_words = ["Pour", "il", "faut", "que", "l'on", "ne", "pose"]
    assert share.counted_words - share.covered_words == len(agents_words)


def test_replacing_half_the_paragraphs_is_about_50_percent():
    agent = [
        "Les services techniques sont passés le 5 mars. Ils ont relevé un trou profond, large comme une roue de "
        "vélo, et l'ont entouré de barrières le soir même en attendant mieux.",
        "Pour tout dégât causé à votre véhicule, écrivez-nous en joignant des photos ainsi que la facture du "
        "garage ; nous transmettrons le dossier complet à notre compagnie d'assurance.",
    ]
    half = letter(POTHOLE_GREETING, [POTHOLE[0], agent[0], POTHOLE[2], agent[1]], POTHOLE_CLOSING)
    assert abs(ai_share(POTHOLE_DRAFT, half).percent - 50) <= 5


def test_changing_only_greeting_and_signature_keeps_100_percent():
    resigned = letter(
        "Bonjour Madame Lemoine,",
        POTHOLE,
        "Bien à vous,\n\nMarc Tessier\nService Voirie — Mairie de Saint-Aubin-des-Landes\n02 99 00 00 01",
    )
    assert ai_share(POTHOLE_DRAFT, resigned).percent == 100


def test_the_share_is_rounded_down_to_a_multiple_of_5():
    # The agent adds a few words of their own at the end of the last paragraph: a little under 100 %.
    added = "Bon rétablissement à elle."
    sent = CANTEEN_DRAFT.replace("prochaine facture.", f"prochaine facture. {added}")
    share = ai_share(CANTEEN_DRAFT, sent)
    assert share.counted_words == share.covered_words + len(added.split())
    assert 95 < share.covered_words * 100 / share.counted_words < 100
    assert share.percent == 95


def test_two_word_coincidences_do_not_count():
    # Shares « le ramassage », « des encombrants », « dans votre », « le mardi », « devant votre »… never three.
    own = letter(
        "Bonjour Monsieur,",
        [
            "Oui, le ramassage se fait sur inscription. Appelez-nous pour fixer un créneau : des encombrants sont "
            "enlevés dans votre rue le mardi, à sortir devant votre porte le lundi soir."
        ],
        "Bonne journée,\nLe service Accueil",
    )
    assert tiles(BULKY_WASTE_DRAFT, own) == []
    assert ai_share(BULKY_WASTE_DRAFT, own).covered_words == 0


def test_punctuation_case_and_apostrophes_do_not_lower_the_share():
    retyped = (
        BULKY_WASTE_DRAFT.replace("d'appeler", "d’appeler")
        .replace(" : ils", ". Ils")
        .replace(", sur rendez-vous", " (sur rendez-vous")
        .replace("uniquement.", "uniquement).")
        .replace("service Déchets", "SERVICE DÉCHETS")
        .replace("mardi 16 avril", "Mardi 16 Avril")
    )
    assert retyped != BULKY_WASTE_DRAFT
    assert ai_share(BULKY_WASTE_DRAFT, retyped).percent == 100


def test_deleting_sentences_keeps_100_percent_of_what_remains():
    shortened = letter("Monsieur,", [BULKY_WASTE[0], BULKY_WASTE[2].split(". ")[0] + "."], "Cordialement,")
    assert ai_share(BULKY_WASTE_DRAFT, shortened).percent == 100


def test_a_draft_sentence_pasted_twice_counts_once():
    sentence = POTHOLE[1]
    share = ai_share(POTHOLE_DRAFT, letter("Madame,", [sentence, sentence], "Cordialement,"))
    assert share.covered_words * 2 == share.counted_words


@pytest.mark.parametrize("sent", ["", "   \n", "Madame,\n\nCordialement,\n\nLe service Enfance"])
def test_an_empty_body_is_0_percent(sent):
    share = ai_share(CANTEEN_DRAFT, sent)
    assert (share.percent, share.counted_words) == (0, 0)


@pytest.mark.parametrize(
    "text, first_word, last_word",
    [
        ("Objet : Facture de cantine\nMadame, Monsieur,\nVotre facture est juste.", "Votre", "juste."),
        ("Bonjour Madame Le Goff,\n\nVotre facture est juste.\n\nBien cordialement,\nLe service", "Votre", "juste."),
        ("Monsieur le Maire,\nVotre facture est juste. Bien à vous", "Votre", "juste."),
        ("Chère Madame, votre facture est juste.\nSalutations distinguées.", "votre", "juste."),
        # A closing that starts with a body-like clause is still the closing.
        ("Madame,\nVotre facture est juste.\nRestant à votre disposition, je vous prie d'agréer…", "Votre", "juste."),
        # « Cordialement » inside a sentence, and a sentence that starts with « Madame », are body text.
        ("Madame Dupont a signalé, hier, un trou. Je vous remercie cordialement.", "Madame", "cordialement."),
    ],
)
def test_objet_greeting_and_signature_are_left_out(text, first_word, last_word):
    words = body_words(text)
    assert (words[0], words[-1]) == (first_word, last_word)


def test_the_same_texts_always_give_the_same_share():
    sent = letter(POTHOLE_GREETING, [POTHOLE[1], POTHOLE[0], POTHOLE[1]], POTHOLE_CLOSING)
    assert len({ai_share(POTHOLE_DRAFT, sent) for _ in range(3)}) == 1
