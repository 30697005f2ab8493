"""Subject routing: suggest the @ctes matière of a deliberation. Owner: helper C."""
