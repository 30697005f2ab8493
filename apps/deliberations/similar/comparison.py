"""A deliberation as the assistant's comparison tool reads it (registered from the app's `ready()`): its
SCDL fields then its full text, for the authority's own acts and other authorities' published ones."""

from django.db.models import Q

from apps import french
from apps.assistant.errors import ToolInputError
from apps.assistant.writing.comparands import Comparand
from apps.documents.models import Document
from apps.tenants.models import Authority

from ..models import Deliberation


def comparand(pk: int, authority_id: int) -> Comparand:
    """The assistant's comparison tool reads deliberations through this (registered in apps.py)."""
    if (deliberation := visible_deliberation(pk, authority_id)) is None:
        raise ToolInputError("Délibération introuvable.")
    title = " ".join(deliberation.objet.split())
    return Comparand(
        comparison_text(deliberation, authority_id=authority_id),
        title,
        "Délibération",
        deliberation.delib_date,
        {
            "deliberation_id": deliberation.pk,
            "delib_id": deliberation.delib_id,
            "authority": deliberation.authority.name,
            "same_authority": deliberation.authority_id == authority_id,
        },
    )


def visible_deliberation(pk: int, authority_id: int) -> Deliberation | None:
    """The authority's own deliberation, or another authority's published one; None otherwise.
    Call inside the authority's tenant context (RLS hides the rest anyway)."""
    return (
        Deliberation.all_tenants.select_related("authority")
        .filter(pk=pk)
        .filter(Q(authority_id=authority_id) | Q(published=True))
        .first()
    )


def comparison_text(deliberation: Deliberation, *, authority_id: int) -> str:
    """What is known of a deliberation, for a comparison: its SCDL fields, then its full text. Another
    authority's act document is not readable (RLS): its copied `text` is all there is of it."""
    body = deliberation.text.strip()
    if not body and deliberation.authority_id == authority_id and deliberation.document_id:
        document = Document.objects.filter(pk=deliberation.document_id).first()
        body = "\n\n".join((p.get("text") or "").strip() for p in (document.pages if document else []) or []).strip()
    lines = [
        f"Collectivité : {_authority_line(deliberation.authority)}",
        f"Numéro : {deliberation.delib_id}",
        f"Date : {deliberation.delib_date:%d/%m/%Y}",
        f"Objet : {' '.join(deliberation.objet.split())}",
    ]
    if deliberation.matiere_code or deliberation.matiere_nom:
        lines.append(f"Matière : {deliberation.matiere_code} {deliberation.matiere_nom}".rstrip())
    if votes := votes_text(deliberation):
        lines.append(f"Vote : {votes}")
    if decision := deliberation.decision.strip():
        # "Adoptée" capitalised after a label reads as a first name to the pseudonymiser's NER.
        lines.append(f"Décision : {decision[:1].lower() + decision[1:] if decision[1:2].islower() else decision}")
    if deliberation.budget_annee or deliberation.budget_nom:
        lines.append(f"Budget : {deliberation.budget_nom} {deliberation.budget_annee}".strip())
    body = body or "(Texte intégral non disponible : seules les informations ci-dessus sont connues.)"
    return "\n".join(lines) + "\n\n" + body


def votes_text(deliberation: Deliberation) -> str:
    """« 15 pour, 0 contre, 2 abstentions (23 en exercice, 17 votants) », or "" without votes."""
    counts = [
        (deliberation.vote_pour, "pour"),
        (deliberation.vote_contre, "contre"),
        (deliberation.vote_abstention, "abstention"),
    ]
    main = ", ".join(
        f"{n} {word}{'s' if word == 'abstention' and n > 1 else ''}" for n, word in counts if n is not None
    )
    extra = ", ".join(
        f"{n} {word}"
        for n, word in [(deliberation.vote_effectif, "en exercice"), (deliberation.vote_reel, "votants")]
        if n is not None
    )
    return f"{main} ({extra})" if main and extra else main or extra


def _authority_line(authority: Authority) -> str:
    details = [authority.get_kind_display()]
    if authority.population:
        details.append(f"{french.number(authority.population)} habitants")
    return f"{authority.name} ({', '.join(details)})"
