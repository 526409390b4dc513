"""Exports of risk lists for the town (pseudonymised)."""
