"""Our OAI-PMH 2.0 data provider, so one coursefed (or any harvester) can harvest another."""
