"""Extraction from minutes: the deliberations a procès-verbal records (rules, then the model when one is
configured), proposed on its council session for an agent to accept or reject."""
