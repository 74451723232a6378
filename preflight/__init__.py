"""preflight: check and fix clips for AI in-context video editors."""

__version__ = "0.1.0"
