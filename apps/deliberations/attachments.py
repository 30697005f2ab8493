"""Fetch the act at DELIB_URL and index it as the deliberation's document. Owner: helper B."""
