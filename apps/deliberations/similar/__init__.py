"""Similar deliberations: the nearest acts of the authority and other authorities' published ones, and the
deliberations as the assistant's comparison tool reads them."""
