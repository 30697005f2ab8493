"""Write an authority's published deliberations as a valid SCDL CSV. Owner: helper A."""
