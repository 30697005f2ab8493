"""Similar deliberations in the same authority and among other authorities' public ones. Owner: helper E."""
