"""Helpers of the inbox tests: a citizen's message, the public form's anti-bot answer as a browser would
compute it, and a message answered the way an agent does it (draft, check, send)."""

from apps.inbox import bots, services
from apps.inbox.models import Message
from apps.tenants.context import tenant_context

POTHOLE = {
    "sender_name": "Lucie Fontaine",
    "sender_email": "lucie.fontaine@exemple.fr",
    "subject": "Nid-de-poule rue des Tilleuls",
    "body": "Bonjour, un nid-de-poule s'est formé devant le 12 rue des Tilleuls. Pouvez-vous le reboucher ? "
    "Je m'appelle Lucie Fontaine et j'habite au 14.",
}
CANTEEN = {
    "sender_name": "Karim Benali",
    "sender_email": "karim.benali@exemple.fr",
    "subject": "Tarif de la cantine scolaire",
    "body": "Bonjour, quel est le prix du repas à la cantine scolaire pour un enfant domicilié dans la commune ?",
}


def receive(authority, fields=POTHOLE, **extra) -> Message:
    with tenant_context(authority.pk):
        message, _ = services.receive_message(authority=authority, **(fields | extra))
    return message


def solved_challenge(client, slug: str) -> str:
    """What the ALTCHA widget posts after solving the challenge the page fetched."""
    response = client.get(f"/registre/{slug}/ecrire/defi/")
    assert response.status_code == 200
    return bots.solve(response.json())


def form_data(fields=POTHOLE, altcha: str = "", **extra) -> dict:
    return {**fields, "altcha": altcha, **extra}


def reload(message: Message) -> Message:
    with tenant_context(message.authority_id):
        return Message.objects.get(pk=message.pk)
