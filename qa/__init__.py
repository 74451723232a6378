"""qa: score how well an edited clip preserved everything outside its edit region."""

__version__ = "0.1.0"
