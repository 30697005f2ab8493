"""The model-call platform: every model call of Registre goes through `calls.governed_call` (quota,
pseudonymisation, versioned prompts, audit, usage, streaming). Its audit rows (Generation) and the
assistant's conversations live here."""
