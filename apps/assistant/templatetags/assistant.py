"""Rendering generated text: escaped, paragraphs kept, `[n]` markers turned into links to the sources."""

import re

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

from ..citations import MARKER

register = template.Library()


@register.filter
def with_citations(text: str, generation_id: int) -> str:
    def link(match: re.Match) -> str:
        numbers = re.findall(r"\d+", match.group(1))
        return "".join(
            f'<a href="#source-{generation_id}-{n}" class="citation" aria-label="source {n}">[{n}]</a>' for n in numbers
        )

    paragraphs = [p for p in re.split(r"\n\s*\n", text or "") if p.strip()]
    html = "".join(f"<p>{MARKER.sub(link, escape(p)).replace(chr(10), '<br>')}</p>" for p in paragraphs)
    return mark_safe(html)  # noqa: S308 - built from escaped text


@register.filter
def highlight(text: str, quote: str) -> str:
    """The passage, escaped, with the quoted sentence in <mark>."""
    text, quote = text or "", (quote or "").strip()
    index = text.find(quote) if quote else -1
    if index < 0:
        return escape(text)
    return mark_safe(  # noqa: S308 - every part is escaped
        escape(text[:index]) + "<mark>" + escape(quote) + "</mark>" + escape(text[index + len(quote) :])
    )
