"""The build with its writer process (atlas_write.Writer): same files as in one process, and an
error or a crash in the writer is one line with the previous atlas and maps kept."""
from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys

import pytest

from reportatlas import atlas_write

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the writer process needs os.fork")

REPORT = "须水街道\n须水街道推进煤机路改造，总投资3亿元，建设绿地2万平方米。\n三官庙街道\n三官庙街道完成10个老旧小区改造。\n"

BUILD = """
import os, sys
from reportatlas import render
how = os.environ.get("WRITER_FAILS")
if how == "error":
    def render_maps(*args, **kwargs):
        raise OSError("disk full while drawing")
    render.render_maps = render_maps
elif how == "crash":
    def render_maps(*args, **kwargs):
        os._exit(3)
    render.render_maps = render_maps
from reportatlas.cli import main
sys.exit(main(["-q", "build", sys.argv[1], "--out", sys.argv[2]]))
"""


def _build(tmp_path, out, *, fork: bool, fails: str = ""):
    env = dict(os.environ, REPORTATLAS_CACHE_DIR=str(tmp_path / "cache"),
               REPORTATLAS_BUILD_FORK="1" if fork else "0", WRITER_FAILS=fails)
    return subprocess.run([sys.executable, "-c", BUILD, str(tmp_path / "r.txt"), str(out)],
                          capture_output=True, text=True, env=env, timeout=300)


def _tables(atlas):
    """Every table's rows, leaving out the build time, the output folder and change stamps."""
    out = {}
    with sqlite3.connect(atlas) as con:
        for name, sql in con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name"):
            rows = con.execute(f'SELECT * FROM "{name}"').fetchall()
            if name == "gpkg_contents":
                rows = [r[:4] + r[5:] for r in rows]
            elif name == "atlas_meta":
                rows = [r for r in rows if r[1] not in ("built_at", "maps_dir")]
            elif name == "atlas_layers":
                rows = [r[:-1] for r in rows]
            out[name] = (sql, rows)
    return out


def _pages(maps):
    return {p.name: re.sub(r"[0-9a-f]{32}", "ID", p.read_text(encoding="utf-8")) for p in sorted(maps.iterdir())}


@pytest.fixture
def report(tmp_path):
    (tmp_path / "r.txt").write_text(REPORT, encoding="utf-8")
    return tmp_path / "r.txt"


def test_forked_and_single_process_builds_write_the_same_atlas_and_maps(tmp_path, report):
    one, two = tmp_path / "one", tmp_path / "forked"
    for out, fork in ((one, False), (two, True), (two, True)):   # the last one: warm cache
        run = _build(tmp_path, out, fork=fork)
        assert run.returncode == 0, run.stderr
    tables = _tables(one / "atlas.gpkg")
    assert _tables(two / "atlas.gpkg") == tables
    assert {"sites", "roads", "areas", "mentions", "metrics", "atlas_layers", "atlas_meta"} <= set(tables)
    assert len(tables["mentions"][1]) >= 3
    pages = _pages(one / "maps")
    assert "index.html" in pages and len(pages) > 2
    assert _pages(two / "maps") == pages


@pytest.mark.parametrize("fails, message", [
    ("error", "reportatlas: error: disk full while drawing"),
    ("crash", "reportatlas: error: the process writing the atlas and maps stopped (exit status 3); nothing was replaced"),
])
def test_writer_failure_is_one_line_and_keeps_the_previous_atlas(tmp_path, report, fails, message):
    out = tmp_path / "out"
    assert _build(tmp_path, out, fork=True).returncode == 0
    atlas_before = (out / "atlas.gpkg").read_bytes()
    index_before = (out / "maps" / "index.html").read_bytes()
    run = _build(tmp_path, out, fork=True, fails=fails)
    assert run.returncode == 2
    assert run.stderr.strip() == message
    assert (out / "atlas.gpkg").read_bytes() == atlas_before
    assert (out / "maps" / "index.html").read_bytes() == index_before
    assert sorted(p.name for p in out.iterdir()) == ["atlas.gpkg", "maps"]   # no temporary folder left


def test_writer_that_is_never_used_exits(tmp_path):
    writer = atlas_write.Writer(fork=True)
    assert writer.forked
    pid = writer.pid
    writer.close()
    assert writer.pid is None
    with pytest.raises(ChildProcessError):   # reaped: no zombie left behind
        os.waitpid(pid, os.WNOHANG)


def test_writer_is_not_forked_when_switched_off_or_threads_run(monkeypatch):
    monkeypatch.setenv(atlas_write.FORK_ENV, "0")
    assert not atlas_write.can_fork()
    monkeypatch.delenv(atlas_write.FORK_ENV)
    monkeypatch.setattr(atlas_write.threading, "active_count", lambda: 2)
    assert not atlas_write.can_fork()


def test_build_failing_before_the_writer_has_work_stops_it(tmp_path, report):
    out = tmp_path / "out"
    assert _build(tmp_path, out, fork=True).returncode == 0     # fills the cache: the next build forks
    before = (out / "atlas.gpkg").read_bytes()
    report.write_bytes(b"\x00\x01\x02\xff" * 64)                 # not a text file
    run = _build(tmp_path, out, fork=True)
    assert run.returncode == 2
    assert len(run.stderr.strip().splitlines()) == 1 and "r.txt" in run.stderr
    assert (out / "atlas.gpkg").read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == ["atlas.gpkg", "maps"]


def test_writer_falls_back_to_this_process_when_fork_fails(monkeypatch):
    def no_fork():
        raise OSError("Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    writer = atlas_write.Writer(fork=True)
    assert not writer.forked
    writer.close()


def test_user_layers_survive_a_forked_rebuild(tmp_path, report):
    out = tmp_path / "out"
    (out / "layers").mkdir(parents=True)
    (out / "layers" / "schools.geojson").write_text(
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"测试学校"},'
        '"geometry":{"type":"Point","coordinates":[113.62,34.75]}}]}', encoding="utf-8")
    for _ in range(2):
        run = _build(tmp_path, out, fork=True)
        assert run.returncode == 0, run.stderr
    with sqlite3.connect(out / "atlas.gpkg") as con:
        roles = dict(con.execute("SELECT layer, role FROM atlas_layers").fetchall())
        names = [r[0] for r in con.execute("SELECT name FROM user_schools").fetchall()]
    assert roles["user_schools"] == "user" and roles["sites"] == "core"
    assert names == ["测试学校"]
    assert "测试学校" in (out / "maps" / "index.html").read_text(encoding="utf-8")
