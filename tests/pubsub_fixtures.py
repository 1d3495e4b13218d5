"""Placeholder until the Pub/Sub fixtures land."""
