"""Helpers of the assistant tests: two small passages worth asking about, indexing them for real, and
reading the prompts the fake model received."""

import re

from django.core.files.uploadedfile import SimpleUploadedFile

from apps.documents.models import Collection, Document
from apps.documents.services import add_uploads
from apps.tenants.context import tenant_context

# Two passages worth asking about, kept small: the local embedder needs about a second per passage.
CANTINE = (
    "Tarifs de la restauration scolaire. Le conseil municipal fixe le prix du repas à la cantine "
    "à 3,20 euros pour les enfants domiciliés dans la commune et à 4,10 euros pour les autres, "
    "à compter du 1er septembre 2023. Adopté à l'unanimité."
)
PISCINE = (
    "Piscine municipale. Le conseil approuve les travaux de rénovation des bassins pour un montant "
    "de 480 000 euros hors taxes, financés par une subvention de la région. Adopté par 25 voix pour "
    "et 2 abstentions."
)


def index_texts(authority, texts: dict[str, str], run_on_commit, *, visibility="internal"):
    with tenant_context(authority.pk):
        collection = Collection.objects.get_or_create(
            authority=authority, name=f"Actes {visibility}", defaults={"visibility": visibility}
        )[0]
    files = [SimpleUploadedFile(name, text.encode()) for name, text in texts.items()]
    with run_on_commit(), tenant_context(authority.pk):
        outcomes = add_uploads(authority=authority, files=files, collection=collection, kind=Document.Kind.DELIBERATION)
    assert all(not o.error for o in outcomes), outcomes


def source_numbers(messages) -> list[int]:
    """The numbers of the <source> blocks in the prompt the fake received."""
    prompt = "\n".join(m["content"] for m in messages if isinstance(m, dict))
    return [int(n) for n in re.findall(r'<source id="(\d+)"', prompt)]


def user_prompt(request) -> str:
    return next(m["content"] for m in request.json["messages"] if m["role"] == "user")
