"""Searches over a space with any fitness: regularized evolution and random search."""
