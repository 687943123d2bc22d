"""The ``stockyard`` command line. Nothing imports this package."""

from stockyard.cli._app import app, main

__all__ = ["app", "main"]
