"""HARVEST: speak OAI-PMH over HTTP and yield raw records; no database, no normalising."""
