"""The register itself: deliberations and council sessions (pages, API, forms, SCDL rules for one act),
and the public register citizens read without logging in."""
