"""Propose the deliberations contained in council minutes. Owner: helper D."""
