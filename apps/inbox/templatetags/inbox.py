"""Dashboard figures in French: days with one decimal, shares as percentages with their interval."""

from datetime import date

from django import template
from django.utils.dateformat import format as format_date

from apps import french

register = template.Library()


@register.filter
def days(value) -> str:
    if value is None:
        return "—"
    return f"{french.number(value, 1)} j"


@register.filter
def percent(value) -> str:
    return "—" if value is None else f"{french.number(value * 100, 0)} %"


@register.filter
def interval(value) -> str:
    """« 68 % (57 – 77 %, 40 avis) » for a satisfaction Interval."""
    if value is None:
        return "pas encore d'avis"
    return (
        f"{french.number(value.share * 100, 0)} % "
        f"(IC 95 % : {french.number(value.low * 100, 0)} – {french.number(value.high * 100, 0)} %, "
        f"{french.count(value.count, 'avis', plural_noun='avis')})"
    )


@register.filter
def bar_width(value, maximum) -> int:
    """Width in percent of a bar, for CSS bar charts (at least 1 so a small value still shows)."""
    if not value or not maximum:
        return 0
    return max(1, round(100 * value / maximum))


@register.filter
def get_item(mapping: dict, key):
    return mapping.get(key)


@register.filter
def month_label(month: str) -> str:
    """« 2026-08 » → « août 2026 »."""
    year, number = (int(part) for part in month.split("-"))
    return format_date(date(year, number, 1), "F Y")
