"""One atlas built from ../shared/reports per test session, shared by test_layers and
test_browser (a module-level cache, so the two modules do not build it twice)."""
from __future__ import annotations

from pathlib import Path

_CACHE: dict[str, object] = {}


def real_atlas(tmp_path_factory, shared_reports: Path, shared_geodata: Path):
    """(summary, out_dir) of ``build_atlas`` on the shared reports, built once."""
    if "atlas" not in _CACHE:
        from reportatlas import gazetteer
        from reportatlas.layers import build_atlas

        try:
            gaz = gazetteer.load()
        except FileNotFoundError:  # no committed gazetteer yet: build one from the sources
            gaz_dir = tmp_path_factory.mktemp("gazetteer")
            gazetteer.build_gazetteer(shared_geodata, gaz_dir)
            gaz = gazetteer.load(gaz_dir)
        out = tmp_path_factory.mktemp("atlas")
        summary = build_atlas([shared_reports], out_dir=out, progress=False, gazetteer=gaz)
        _CACHE["atlas"] = (summary, out)
    return _CACHE["atlas"]
