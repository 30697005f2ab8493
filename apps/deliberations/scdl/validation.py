"""Validate SCDL rows against the official Table Schema and its custom checks.
Owner: helper A."""
