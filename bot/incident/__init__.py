"""Incidents: correlating groups that start together, and declared incidents."""
