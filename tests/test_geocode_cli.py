"""`reportatlas geocode`: the jsonl contract, --file, formats, and one-line errors."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from reportatlas.cli import main
from reportatlas.geocode import CONTRACT_FIELDS
from test_geocode_world import world


@pytest.fixture(scope="module")
def gaz(tmp_path_factory):
    path = tmp_path_factory.mktemp("gaz") / "gazetteer.geojson"
    world().to_file(path, driver="GeoJSON")
    return str(path)


def run(capsys, *args):
    code = main(["geocode", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_jsonl_has_exactly_the_contract_fields(capsys, gaz):
    code, out, _ = run(capsys, "须水站", "东西路与南北路交叉口", "东西陆", "--gazetteer", gaz,
                       "--no-default-overrides")
    assert code == 0
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["query"] for r in records] == ["须水站", "东西路与南北路交叉口", "东西陆"]
    assert all(list(r) == list(CONTRACT_FIELDS) for r in records)
    ok, crossing, missing = records
    assert ok["status"] == "ok" and ok["lon"] == pytest.approx(113.55) and ok["lat"] == pytest.approx(34.76)
    assert crossing["precision"] == "intersection" and crossing["geometry_type"] == "Point"
    assert missing["status"] == "unresolved" and missing["lon"] is None and "东西路" in missing["suggestions"]


def test_context_option(capsys, gaz):
    _, out, _ = run(capsys, "幸福社区", "--context", "乙街道", "--gazetteer", gaz, "--no-default-overrides")
    assert json.loads(out)["subdistrict"] == "乙街道"


def test_file_with_thousands_of_queries(capsys, gaz, tmp_path):
    names = ["须水站", "东西路", "和平社区12号院", "东西路与南北路交叉口向北300米", "未知地名", "东西路（南北路—二号路）"]
    lines = [names[i % len(names)] for i in range(3000)]
    lines.insert(5, "幸福社区\t乙街道")   # a per-line context
    lines.insert(6, "")                   # blank lines are skipped
    path = tmp_path / "queries.txt"
    path.write_text("\n".join(lines), encoding="utf-8")
    code, out, _ = run(capsys, "--file", str(path), "--format", "jsonl", "--gazetteer", gaz, "--no-default-overrides")
    assert code == 0
    records = [json.loads(line) for line in out.splitlines()]
    assert len(records) == 3001
    assert records[5]["query"] == "幸福社区" and records[5]["subdistrict"] == "乙街道"
    statuses = {r["query"]: r["status"] for r in records}
    assert statuses["未知地名"] == "unresolved" and statuses["须水站"] == "ok"


def test_geojson_format_is_a_feature_collection_with_full_geometry(capsys, gaz):
    _, out, _ = run(capsys, "东西路（南北路—二号路）", "东西陆", "--format", "geojson", "--gazetteer", gaz,
                    "--no-default-overrides")
    fc = json.loads(out)
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 2
    seg, missing = fc["features"]
    assert seg["geometry"]["type"] == "LineString" and len(seg["geometry"]["coordinates"]) >= 2
    assert seg["properties"]["length_m"] == pytest.approx(5521, rel=0.01)   # 113.58 → 113.6403 at 34.75
    assert missing["geometry"] is None and missing["properties"]["status"] == "unresolved"


def test_table_format_shows_chinese_headers(capsys, gaz):
    _, out, _ = run(capsys, "须水站", "--format", "table", "--gazetteer", gaz, "--no-default-overrides")
    assert "精度" in out and "须水站" in out and "exact" in out


def test_overrides_option(capsys, gaz, tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("name,lon,lat\n须水站,113.5601,34.7601\n", encoding="utf-8")
    _, out, _ = run(capsys, "须水站", "--overrides", str(path), "--gazetteer", gaz, "--no-default-overrides")
    rec = json.loads(out)
    assert rec["lon"] == pytest.approx(113.5601) and rec["source"] == "override:mine.csv"


@pytest.mark.parametrize("args,words", [
    (["--context", "丙街道"], "丙街道"),
    (["--file", "/nonexistent/queries.txt"], "not found"),
    (["--file", "/"], "folder"),
    (["   "], "empty query"),
    ([], "no query"),
    (["--overrides", "/nonexistent/o.csv", "须水站"], "overrides file not found"),
    (["--online", "amap", "须水站"], "needs a key"),
])
def test_bad_input_is_one_line_and_non_zero(gaz, args, words, monkeypatch, tmp_path):
    monkeypatch.delenv("REPORTATLAS_AMAP_KEY", raising=False)
    if args[:1] == ["--context"]:
        args = ["东西路", *args]
    proc = subprocess.run([sys.executable, "-m", "reportatlas", "geocode", *args, "--gazetteer", gaz,
                           "--no-default-overrides"], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], proc.stderr
    assert proc.stdout == ""


def test_unknown_context_suggests_the_known_ones(gaz):
    proc = subprocess.run([sys.executable, "-m", "reportatlas", "geocode", "东西路", "--context", "甲街", "--gazetteer",
                           gaz, "--no-default-overrides"], capture_output=True, text=True)
    assert proc.returncode == 2 and "甲街道" in proc.stderr


def test_binary_query_file_is_one_clear_error(capsys, gaz, tmp_path):
    path = tmp_path / "q.txt"
    path.write_bytes(b"\xff\xfe\x00\x81\x82binary")
    proc = subprocess.run([sys.executable, "-m", "reportatlas", "geocode", "--file", str(path), "--gazetteer", gaz],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "UTF-8" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_online_flag_uses_the_provider_and_its_cache(capsys, gaz, tmp_path):
    from test_geocode_overrides import TRUE, FakeServer, metres

    server = FakeServer()
    try:
        args = ["某个新小区", "--online", "amap", "--key", "k123", "--online-url", server.url, "--cache",
                str(tmp_path), "--gazetteer", gaz, "--no-default-overrides"]
        _, out, _ = run(capsys, *args)
        rec = json.loads(out)
        assert rec["source"] == "online:amap" and metres((rec["lon"], rec["lat"]), TRUE) < 1
        _, again, _ = run(capsys, *args)
        assert json.loads(again) == rec and len(server.requests) == 1
        _, offline, _ = run(capsys, "某个新小区", "--gazetteer", gaz, "--no-default-overrides")
        assert json.loads(offline)["status"] == "unresolved"   # off unless asked for
    finally:
        server.close()
