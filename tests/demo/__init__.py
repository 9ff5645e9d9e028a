"""Tests of the demo corpus and the demo OAI-PMH repository."""
