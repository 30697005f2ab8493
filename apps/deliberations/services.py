"""Writes on the register (publish, confirm a matière, edit). Owner: helper E."""
