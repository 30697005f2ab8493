"""French numbers and plurals, in one place for every app: thousands grouped with a narrow no-break
space (French typography, as CLDR's fr locale writes them), decimals with a comma, and nouns that agree
with their count (French takes the plural from 2: « 0 ligne », « 1 ligne », « 2 lignes »)."""

GROUP_SEPARATOR = "\u202f"  # narrow no-break space: « 12 000 » never breaks across two lines


def number(value: int | float, decimals: int | None = None) -> str:
    """« 12 000 », « 1 234,5 »; `decimals` fixes the digits after the comma."""
    text = f"{value:,.{decimals}f}" if decimals is not None else f"{value:,}"
    return text.replace(",", GROUP_SEPARATOR).replace(".", ",")


def plural(count: int, word: str, plural_form: str | None = None) -> str:
    """The word as it agrees with `count`, without the number: plural_form defaults to word + "s"."""
    return word if abs(count) < 2 else plural_form or f"{word}s"


def count(value: int, noun: str, adjective: str = "", *, plural_noun: str | None = None) -> str:
    """« 12 000 lignes vérifiées », « 1 ligne vérifiée », « 0 délibération ajoutée »."""
    words = [plural(value, noun, plural_noun)] + ([plural(value, adjective)] if adjective else [])
    return f"{number(value)} {' '.join(words)}"


def file_size(size: int) -> str:
    """« 12 Mo », « 250 Ko » (at least 1 Ko: « 0 Ko » reads as an empty file)."""
    if size >= 1024 * 1024:
        return f"{number(round(size / 1024 / 1024))} Mo"
    return f"{number(max(round(size / 1024), 1))} Ko"
