"""Harvests from OAI-PMH data providers we did not write, served on loopback."""
