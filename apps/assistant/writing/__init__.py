"""The writing tools: inputs (what each accepts), sources (the text it reads), texts (parts, figures),
comparands (what a comparison compares, registered by apps), tools (how a worker runs each)."""
