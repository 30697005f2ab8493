"""SCDL import: validate then upsert by authority + deliberation id, as a background job. Owner: helper B."""
