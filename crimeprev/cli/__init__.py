"""The `crimeprev` command line: one module per command group, sharing `main`'s error handling."""

from crimeprev.cli.main import main

__all__ = ["main"]
