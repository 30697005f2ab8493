"""The audit log's export: one CSV row per generation (who, what, sources, model, tokens, outcome), for
every app's model calls."""

import csv

from django.http import StreamingHttpResponse
from django.utils import timezone

COLUMNS = [
    "id",
    "date",
    "utilisateur",
    "tâche",
    "mode",
    "issue",
    "modèle",
    "consigne",
    "demande",
    "recherche",
    "sources",
    "réponse",
    "à vérifier",
    "citations retirées",
    "jetons entrée",
    "jetons générés",
    "durée (ms)",
    "énergie (Wh)",
    "CO2 (g)",
    "données masquées",
    "avis",
    "motif de l'avis",
    "erreur",
]


class _Echo:
    def write(self, value):
        return value


def _cell(value) -> str:
    """Spreadsheets execute cells starting with = + - @: quote them (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _request_text(generation) -> str:
    data = generation.input or {}
    parts = [data.get("question"), data.get("instructions"), data.get("agenda")]
    if data.get("document"):
        parts.append(f"document {data['document']}")
    if data.get("documents"):
        parts.append("documents " + ", ".join(map(str, data["documents"])))
    if data.get("deliberations"):
        parts.append("délibérations " + ", ".join(map(str, data["deliberations"])))
    if data.get("text"):
        parts.append(f"texte de {len(data['text'])} caractères")
    return " | ".join(p for p in parts if p)


def row(generation) -> list[str]:
    sources = "; ".join(f"[{s['n']}] {s['title']} p. {s.get('page', '')}" for s in generation.sources)
    values = [
        generation.pk,
        timezone.localtime(generation.created_at).isoformat(timespec="seconds"),
        generation.user.email if generation.user else "",
        generation.get_task_display(),
        generation.get_mode_display(),
        generation.get_outcome_display(),
        generation.model,
        generation.template,
        _request_text(generation),
        generation.query,
        sources,
        generation.output,
        "oui" if generation.flagged else "non",
        " ".join(map(str, generation.invalid_citations)),
        generation.prompt_tokens,
        generation.completion_tokens,
        generation.latency_ms,
        f"{generation.energy_wh:.4f}",
        f"{generation.co2_g:.4f}",
        generation.pseudonymised,
        {1: "utile", -1: "pas utile"}.get(generation.rating, ""),
        generation.rating_reason,
        generation.error,
    ]
    return [_cell(v) for v in values]


def csv_response(queryset) -> StreamingHttpResponse:
    """Rows are read up front: the body is produced after the request's tenant transaction ends."""
    writer = csv.writer(_Echo(), delimiter=";")  # French spreadsheets expect semicolons
    lines = ["\ufeff" + writer.writerow(COLUMNS)] + [writer.writerow(row(g)) for g in queryset.iterator()]
    response = StreamingHttpResponse(iter(lines), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="journal-assistant.csv"'
    return response
