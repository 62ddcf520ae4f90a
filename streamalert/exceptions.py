"""The project's error base class; specific errors live beside the code that raises them."""

from __future__ import annotations


class StreamAlertError(Exception):
    """Base of every error this project raises on purpose."""
