"""The one base of every error a user can cause: a bad file, a config value, an empty period,
an unknown name. Its message is a sentence to show as it is; the dashboard (`app.py`) and the
command line (`crimeprev.cli.main`) each print it from one handler, never as a traceback.
"""

from __future__ import annotations


class CrimeprevError(Exception):
    """An error a user can cause and mend; the message says what is wrong and what to do."""

    title = "This cannot be shown"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message
