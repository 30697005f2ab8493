"""Subject routing: the @ctes matière suggested for a deliberation (classifier, optionally the model's pick),
confirmed by an agent; batch classification after an import."""
