"""Reads on the register shared by pages, API and public register. Owner: helper E."""
