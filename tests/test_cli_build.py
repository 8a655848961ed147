"""``reportatlas render``: redraws the maps of an atlas, the same pages as render_maps."""
from __future__ import annotations

import re

from _atlas_fakes import FakeGazetteer, FakeGeocoder, fake_extraction

from reportatlas import render
from reportatlas.cli import main
from reportatlas.layers import build_atlas


def _text(path):
    return re.sub(r"[0-9a-f]{32}", "ID", path.read_text(encoding="utf-8"))


def test_render_command_draws_the_same_maps_as_render_maps(tmp_path, capsys):
    atlas = build_atlas(out_dir=tmp_path, progress=False, maps=False, extraction=fake_extraction(),
                        gazetteer=FakeGazetteer(), geocoder=FakeGeocoder()).atlas_path
    expected = render.render_maps(atlas, tmp_path / "expected")
    assert main(["render", str(atlas), "--maps-dir", str(tmp_path / "maps")]) == 0
    listed = capsys.readouterr().out.split()
    assert [p.rsplit("/", 1)[-1] for p in listed] == [p.name for p in expected]
    assert [_text(tmp_path / "maps" / p.name) for p in expected] == [_text(p) for p in expected]


def test_render_command_without_an_atlas_is_one_line(tmp_path, capsys):
    assert main(["render", str(tmp_path / "none.gpkg")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "reportatlas build" in err
