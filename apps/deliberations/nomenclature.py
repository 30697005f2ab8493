"""The @ctes nomenclature: load the RetourClassification files, resolve codes and labels. Owner: helper C."""
