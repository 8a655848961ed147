"""reportatlas: Chinese district work reports → offline gazetteer, GeoPackage atlas, Leaflet maps.

The stages live in their own modules (``corpus``, ``extract``, ``gazetteer``, ``geocode``,
``layers``, ``render``, ``query``); import them directly.  Importing this package is cheap.
"""
from __future__ import annotations

__version__ = "0.1.0"

from .errors import ReportAtlasError  # noqa: E402,F401
