"""Spelling corrections: each change points at exact characters of the original, and the agent's choice
of changes rebuilds exactly the text they asked for."""

import itertools
import random

import pytest

from apps.assistant.corrections import apply, diff

ORIGINAL = (
    "Les enfant sont parti a la piscine,hier.\n"
    "Le maire a signé l'arrêté n° 2023-45 le 4 juillet.\n\n"
    "Il reste 12 500 € a engager"
)
CORRECTED = (
    "Les enfants sont partis à la piscine, hier.\n"
    "Le maire a signé l’arrêté n° 2023-45 le 4 juillet.\n\n"
    "Il reste 12 500 € à engager."
)

PAIRS = [
    (ORIGINAL, CORRECTED),
    ("", "Texte ajouté."),
    ("Texte supprimé.", ""),
    ("Une ligne.\nUne ligne en trop.\nLa fin.", "Une ligne.\nLa fin."),
    ("Première ligne.\nDernière ligne.", "Première ligne.\nLigne insérée.\nDernière ligne."),
    ("Il  y a deux espaces ,et une virgule mal placée", "Il y a deux espaces, et une virgule mal placée."),
    (
        "Les délibérations numéro 12 et 13 ont étés adoptées.\r\n",
        "Les délibérations numéros 12 et 13 ont été adoptées.\n",
    ),
    ("Ça va très très bien", "Ça va très bien"),
]


@pytest.mark.parametrize(("original", "corrected"), PAIRS)
def test_every_change_points_at_the_exact_characters_it_replaces(original, corrected):
    changes = diff(original, corrected)
    assert [c["id"] for c in changes] == list(range(1, len(changes) + 1))
    for change in changes:
        assert original[change["start"] : change["end"]] == change["before"]
        assert change["before"] != change["after"]
    starts = [c["start"] for c in changes]
    assert starts == sorted(starts)
    assert all(a["end"] < b["start"] for a, b in itertools.pairwise(changes))  # apart, not touching


@pytest.mark.parametrize(("original", "corrected"), PAIRS)
def test_accepting_every_change_gives_the_corrected_text_and_none_the_original(original, corrected):
    changes = diff(original, corrected)
    assert apply(original, changes, [c["id"] for c in changes]) == corrected
    assert apply(original, changes, []) == original


def test_changes_are_words_not_whole_sentences():
    changes = diff(ORIGINAL, CORRECTED)
    assert [(c["before"], c["after"]) for c in changes] == [
        ("enfant", "enfants"),
        ("parti", "partis"),
        ("a", "à"),
        ("hier", " hier"),
        ("'", "’"),
        ("a", "à"),
        ("engager", "engager."),
    ]
    assert ORIGINAL[changes[2]["start"] : changes[2]["end"]] == "a"
    assert changes[2]["start"] == ORIGINAL.index(" a la") + 1


def test_a_missing_space_or_full_stop_is_shown_with_the_word_it_sticks_to():
    changes = diff("Bonjour,madame", "Bonjour, madame.")
    assert [(c["before"], c["after"]) for c in changes] == [("madame", " madame.")]


def test_only_the_accepted_changes_are_made():
    changes = diff(ORIGINAL, CORRECTED)
    by_before = {c["after"]: c["id"] for c in changes}
    text = apply(ORIGINAL, changes, [by_before["enfants"], by_before["partis"]])
    assert text.startswith("Les enfants sont partis a la piscine,hier.")
    assert text.endswith("Il reste 12 500 € a engager")


def test_ids_read_back_from_a_form_are_accepted_as_strings():
    changes = diff("Il a manger.", "Il a mangé.")
    assert apply("Il a manger.", changes, ["1"]) == "Il a mangé."


def test_identical_texts_have_no_change():
    assert diff(CORRECTED, CORRECTED) == []


def test_a_change_that_does_not_fit_the_original_is_refused():
    changes = diff("Il a manger.", "Il a mangé.")
    with pytest.raises(ValueError):
        apply("Il a mangé.", changes, [1])


def test_a_long_text_is_compared_quickly_line_by_line():
    original = "\n".join(f"Ligne {n} : le conseil a adopter la délibération à l'unanimitée." for n in range(3000))
    corrected = original.replace("adopter", "adopté").replace("unanimitée", "unanimité")
    changes = diff(original, corrected)
    assert len(changes) == 6000
    assert apply(original, changes, [c["id"] for c in changes]) == corrected


def test_random_corrections_always_rebuild_both_texts():
    rng = random.Random(20240501)  # noqa: S311 - reproducible test data
    words = [
        "le",
        "la",
        "les",
        "conseil",
        "municipal",
        "a",
        "adopté",
        ",",
        ".",
        ";",
        "l'",
        "arrêté",
        "12 500 €",
        "à\n",
        "\n\n",
    ]
    for _ in range(300):
        original = " ".join(rng.choice(words) for _ in range(rng.randint(0, 30)))
        tokens = list(original)
        for _ in range(rng.randint(1, 6)):  # character edits: insert, delete, replace
            at = rng.randint(0, len(tokens))
            choice = rng.choice([" ", ",", "é", "s", "\n", ""])
            if rng.random() < 0.5 and at < len(tokens):
                tokens[at] = choice
            else:
                tokens.insert(at, choice)
        corrected = "".join(tokens)
        changes = diff(original, corrected)
        assert apply(original, changes, [c["id"] for c in changes]) == corrected, (original, corrected)
        assert apply(original, changes, []) == original
        for change in changes:
            assert original[change["start"] : change["end"]] == change["before"] != change["after"]
        chosen = [c for c in changes if rng.random() < 0.5]
        expected = original
        for change in reversed(chosen):
            expected = expected[: change["start"]] + change["after"] + expected[change["end"] :]
        assert apply(original, changes, [c["id"] for c in chosen]) == expected
