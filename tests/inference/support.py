"""What the fake inference server answers in the gateway's tests."""

ANSWER = "Le conseil municipal se réunit le premier lundi du mois à la mairie."
