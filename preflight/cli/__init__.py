"""The ``preflight`` console script; the only place exit codes and click live."""

from .main import cli, main

__all__ = ["cli", "main"]
