"""GraphMill: shared pieces of the three stages (errors, file-system helpers, demo data)."""

__version__ = "0.1.0"
