"""The institution authority: one entry per school, whatever language or spelling records use."""
