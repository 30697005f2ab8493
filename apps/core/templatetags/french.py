"""French numbers in templates, as the code writes them (apps/french.py): {{ total|number }} → « 2 000 000 »."""

from django import template

from apps import french

register = template.Library()


@register.filter
def number(value):
    """The value with French digit grouping; what is no number is shown as it is."""
    try:
        return french.number(int(value))
    except (TypeError, ValueError):
        return value
