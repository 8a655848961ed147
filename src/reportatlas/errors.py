"""Errors raised by reportatlas.

Every error the user can cause derives from :class:`ReportAtlasError` and also from the
matching built-in exception, so callers may catch either.  Messages quote what was
received, say what was expected and how to fix it; the CLI prints them as one line.
"""
from __future__ import annotations


class ReportAtlasError(Exception):
    """Root of all reportatlas errors."""


class InputError(ReportAtlasError, ValueError):
    """Input that cannot be used as given (bad value, bad option, malformed content)."""


class InputFileNotFound(ReportAtlasError, FileNotFoundError):
    """A path given by the user does not exist."""


class DecodingError(InputError, UnicodeError):
    """A text file is empty, binary or in an encoding we do not read."""


class DatumError(InputError):
    """Unknown datum name, or coordinates that do not fit the declared datum."""


class GeometryError(InputError):
    """Invalid, swapped or out-of-range coordinates or geometries."""


class NotFoundError(ReportAtlasError, LookupError):
    """A name, layer or feature that is not known; carries suggestions."""

    def __init__(self, message: str, suggestions: list[str] | None = None):
        self.suggestions = list(suggestions or [])
        if self.suggestions:
            message = f"{message} (did you mean: {'、'.join(self.suggestions[:5])}?)"
        super().__init__(message)


class LayerExistsError(ReportAtlasError, FileExistsError):
    """A layer with that name exists already; pass --replace to overwrite it."""


class QueryError(InputError):
    """A spatial query or SQL statement that cannot run (or would write)."""
