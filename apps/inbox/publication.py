"""What the public page shows of a reply the citizen agreed to publish: no greeting or signature (they name
people), and the personal data the platform's pseudonymiser finds in the subject and the body masked."""

from apps.ai.pseudonymise import find_entities

from .ai_share import body

MASKS = {"PERSONNE": "[nom]", "EMAIL": "[adresse électronique]", "TEL": "[téléphone]", "ADRESSE": "[adresse]"}


def masked(text: str) -> str:
    for span in reversed(find_entities(text)):
        text = text[: span.start] + MASKS.get(span.kind, "[donnée masquée]") + text[span.end :]
    return text


def public_version(subject: str, reply_text: str) -> tuple[str, str]:
    """(title, text) as published: the agent sees them on the check page before validating."""
    return masked(subject), masked(body(reply_text) or reply_text).strip()
