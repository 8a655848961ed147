"""Maps drawn in two processes (render_maps(jobs=2)): the same pages, errors raised again."""
from __future__ import annotations

import os
import re

import pytest
from _atlas_fakes import FakeGazetteer, FakeGeocoder, fake_extraction

from reportatlas import render
from reportatlas.forked import can_fork
from reportatlas.layers import build_atlas

pytestmark = pytest.mark.skipif(not can_fork(), reason="needs a fork of a single-threaded process")


@pytest.fixture(scope="module")
def atlas(tmp_path_factory):
    out = tmp_path_factory.mktemp("jobs_atlas")
    return build_atlas(out_dir=out, progress=False, maps=False, extraction=fake_extraction(),
                       gazetteer=FakeGazetteer(), geocoder=FakeGeocoder()).atlas_path


def _text(path):
    return re.sub(r"[0-9a-f]{32}", "ID", path.read_text(encoding="utf-8"))


def test_two_processes_draw_the_same_pages_in_the_same_order(atlas, tmp_path):
    one = render.render_maps(atlas, tmp_path / "one")
    two = render.render_maps(atlas, tmp_path / "two", jobs=2)
    assert [p.name for p in two] == [p.name for p in one] == ["index.html", "三官庙街道.html", "须水街道.html"]
    assert [_text(p) for p in two] == [_text(p) for p in one]
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == sorted(p.name for p in one)


def _failing_on_second_page(monkeypatch, action):
    page_html = render._page_html

    def fake(payload, bounds, *, title, **kwargs):
        if title.startswith("须水街道"):   # the last page: drawn by the second process
            action()
        return page_html(payload, bounds, title=title, **kwargs)

    monkeypatch.setattr(render, "_page_html", fake)


def test_error_in_the_second_process_is_raised_again(atlas, tmp_path, monkeypatch):
    def fail():
        raise RuntimeError("disk full while drawing")

    _failing_on_second_page(monkeypatch, fail)
    with pytest.raises(RuntimeError, match="disk full while drawing"):
        render.render_maps(atlas, tmp_path / "maps", jobs=2)


DIE_IN_CHILD = """
import os, sys
from reportatlas import render
parent, page_html = os.getpid(), render._page_html

def page(payload, bounds, *, title, **kwargs):
    if title.startswith("须水街道") and os.getpid() != parent:   # only ever the drawing child
        os._exit(5)
    return page_html(payload, bounds, title=title, **kwargs)

render._page_html = page
try:
    render.render_maps(sys.argv[1], sys.argv[2], jobs=2)
except Exception as exc:
    print(type(exc).__name__, exc)
"""


def test_second_process_dying_is_one_clear_error(atlas, tmp_path):
    # in a fresh interpreter: this one may run other threads (then nothing would be forked)
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-c", DIE_IN_CHILD, str(atlas), str(tmp_path / "maps")],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "ForkError the process drawing the maps stopped (exit status 5)"


def test_no_process_to_spare_means_drawing_them_all_here(atlas, tmp_path, monkeypatch):
    def no_fork():
        raise OSError("Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    one = render.render_maps(atlas, tmp_path / "maps", jobs=2)
    assert [p.name for p in one] == ["index.html", "三官庙街道.html", "须水街道.html"]
    assert all(p.is_file() for p in one)
