"""SCDL « Délibérations »: reading files, validating against the official schema, writing exports."""
