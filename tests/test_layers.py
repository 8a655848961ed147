"""The atlas (GeoPackage): layers, CRS, joins, mentions kept, atomic and idempotent rebuilds."""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import geopandas as gpd
import pyogrio
import pytest
from _atlas_fakes import HOSTILE, FakeGazetteer, FakeGeocoder, fake_extraction
from _atlas_real import real_atlas

from reportatlas.layers import build_atlas


def _build(out, **kw):
    kw.setdefault("extraction", fake_extraction())
    kw.setdefault("gazetteer", FakeGazetteer())
    kw.setdefault("geocoder", FakeGeocoder())
    return build_atlas(out_dir=out, progress=False, maps=kw.pop("maps", False), **kw)


def _layer(path, name):
    return gpd.read_file(path, layer=name)


def _table(path, name):
    return pyogrio.read_dataframe(path, layer=name, read_geometry=False)


@pytest.fixture
def fake_atlas(tmp_path):
    summary = _build(tmp_path)
    return summary.atlas_path


def test_layers_crs_and_geometry_types(fake_atlas):
    listed = dict(pyogrio.list_layers(fake_atlas))
    assert listed["sites"] == "Point"
    assert listed["roads"] == "MultiLineString"
    assert listed["areas"] == "MultiPolygon"
    for table in ("mentions", "metrics", "atlas_layers", "atlas_meta"):
        assert table in listed
    for layer in ("sites", "roads", "areas"):
        assert _layer(fake_atlas, layer).crs.to_epsg() == 4326


def test_spatial_index_on_every_layer(fake_atlas):
    with sqlite3.connect(fake_atlas) as con:
        indexed = {r[0] for r in con.execute(
            "SELECT table_name FROM gpkg_extensions WHERE extension_name = 'gpkg_rtree_index'")}
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
    assert {"sites", "roads", "areas"} <= indexed
    assert "rtree_sites_geom" in tables


def test_features_counts_and_mentions(fake_atlas):
    sites = _layer(fake_atlas, "sites").set_index("id")
    roads = _layer(fake_atlas, "roads").set_index("id")
    # 芝麻街双创园, 须水站, the hostile name and the approximate 某某小微园 and 某某社区
    assert set(sites.index) == {"site:芝麻街双创园", "metro:须水", "site:hostile", "approx:site:某某小微园",
                                "approx:community:某某社区"}
    assert "某某社区" not in set(_layer(fake_atlas, "areas")["name"])
    assert roads.loc["road:煤机路", "mentions"] == 2  # two reports name it
    assert sites.loc["site:hostile", "name"] == HOSTILE


def test_unresolved_names_stay_in_mentions(fake_atlas):
    mentions = _table(fake_atlas, "mentions")
    assert len(mentions) == len(fake_extraction().places)
    lost = mentions[mentions["name"] == "不存在的路"].iloc[0]
    assert lost["status"] == "unresolved"
    assert lost["feature_id"] is None or lost["feature_id"] != lost["feature_id"]  # null
    ok = mentions[mentions["status"] == "ok"]
    assert ok["feature_id"].notna().all()
    assert {"report", "article", "start", "end", "sentence", "layer", "precision"} <= set(mentions.columns)


def test_approximate_site_is_a_point_in_its_subdistrict(fake_atlas):
    from _atlas_fakes import SD_A

    site = _layer(fake_atlas, "sites").set_index("id").loc["approx:site:某某小微园"]
    assert bool(site["approximate"]) is True
    assert site["precision"] == "subdistrict"
    assert SD_A.contains(site.geometry)
    assert site["uncertainty_m"] > 1000  # the 街道 box is about 3.7 km × 3.3 km


def test_metrics_joined_on_features(fake_atlas):
    sites = _layer(fake_atlas, "sites").set_index("id")
    park = sites.loc["site:芝麻街双创园"]
    assert park["total_investment_yuan"] == pytest.approx(3e8)  # repeated in two reports: once
    assert park["area_m2"] == pytest.approx(20000)
    items = json.loads(park["metrics_json"])
    assert sorted(i["metric"] for i in items) == ["占地面积", "总投资"]


def test_every_subdistrict_in_areas_with_aggregates(fake_atlas):
    areas = _layer(fake_atlas, "areas").set_index("name")
    assert {"三官庙街道", "须水街道", "中原区"} <= set(areas.index)
    assert areas.loc["须水街道", "mentions"] == 0  # not named, still there
    # 3亿 (park) + 1亿 (approximate site) + 5000万 (unresolved subject in the article)
    assert areas.loc["三官庙街道", "total_investment_yuan"] == pytest.approx(4.5e8)
    assert areas.loc["须水街道", "total_investment_yuan"] == pytest.approx(2e7)
    assert areas.loc["三官庙街道", "area_m2"] == pytest.approx(3.2e6)
    assert areas.loc["中原区", "total_investment_yuan"] == pytest.approx(4.7e8)


def test_metrics_table_keeps_unresolved_subjects(fake_atlas):
    metrics = _table(fake_atlas, "metrics")
    assert len(metrics) == len(fake_extraction().metrics)
    row = metrics[metrics["subject"] == "无名项目"].iloc[0]
    assert row["subdistrict"] == "三官庙街道"
    assert row["value"] == pytest.approx(5e7)
    assert row["quote"]


def test_atlas_layers_and_meta(fake_atlas, tmp_path):
    layers = _table(fake_atlas, "atlas_layers")
    assert set(layers["layer"]) == {"sites", "roads", "areas"}
    assert set(layers["role"]) == {"core"}
    meta = dict(zip(*_table(fake_atlas, "atlas_meta")[["key", "value"]].T.values))
    assert meta["maps_dir"] == str((tmp_path / "maps").resolve())
    assert json.loads(meta["reports"]) == ["r1.txt", "r2.txt"]


def test_user_layers_are_reimported(tmp_path):
    (tmp_path / "layers").mkdir()
    (tmp_path / "layers" / "schools.geojson").write_text(json.dumps({
        "type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"name": "测试学校", "pupils": 300},
             "geometry": {"type": "Point", "coordinates": [113.62, 34.76]}}]}), encoding="utf-8")
    (tmp_path / "layers" / "broken.geojson").write_text("{not json", encoding="utf-8")
    summary = _build(tmp_path)
    assert summary.user_layers == ["user_schools"]
    assert any("broken.geojson" in s for s in summary.skipped_layers)
    layers = _table(summary.atlas_path, "atlas_layers").set_index("layer")
    assert layers.loc["user_schools", "role"] == "user"
    schools = _layer(summary.atlas_path, "user_schools")
    assert list(schools["name"]) == ["测试学校"]


def test_rebuild_is_idempotent(tmp_path):
    first = _build(tmp_path)
    frames1 = {l: _layer(first.atlas_path, l).drop(columns="geometry") for l in ("sites", "roads", "areas")}
    second = _build(tmp_path)
    for layer, frame in frames1.items():
        again = _layer(second.atlas_path, layer).drop(columns="geometry")
        assert frame.equals(again), layer
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp folder left


def test_failure_half_way_keeps_previous_atlas_and_maps(tmp_path, monkeypatch):
    first = _build(tmp_path, maps=True)
    before = first.atlas_path.read_bytes()
    index_before = (tmp_path / "maps" / "index.html").read_text(encoding="utf-8")

    def boom(*args, **kwargs):
        raise RuntimeError("disk full while drawing")

    monkeypatch.setattr("reportatlas.render.render_maps", boom)
    with pytest.raises(RuntimeError):
        _build(tmp_path, maps=True)
    assert first.atlas_path.read_bytes() == before
    assert (tmp_path / "maps" / "index.html").read_text(encoding="utf-8") == index_before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_cli_build_bad_path_is_one_line(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "reportatlas", "build", str(tmp_path / "nope"),
                           "--out", str(tmp_path / "out")], capture_output=True, text=True)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "nope" in proc.stderr
    assert not (tmp_path / "out" / "atlas.gpkg").exists()


# ----------------------------------------------------------------------------- real reports

@pytest.fixture(scope="module")
def built(tmp_path_factory, shared_reports, shared_geodata):
    return real_atlas(tmp_path_factory, shared_reports, shared_geodata)


@pytest.mark.integration
def test_real_atlas_layers_and_counts(built):
    summary, out = built
    path = out / "atlas.gpkg"
    for layer in ("sites", "roads", "areas"):
        frame = _layer(path, layer)
        assert frame.crs.to_epsg() == 4326
        assert len(frame) == summary.counts[layer]
    assert summary.counts["sites"] >= 10
    assert summary.counts["roads"] >= 5


@pytest.mark.integration
def test_real_atlas_has_every_subdistrict_and_zhongyuan(built):
    _, out = built
    areas = _layer(out / "atlas.gpkg", "areas")
    names = set(areas["name"])
    assert "中原区" in names
    for sd in ("三官庙街道", "须水街道", "西流湖街道", "林山寨街道"):
        assert sd in names
    subs = areas[areas["kind"] == "subdistrict"]
    assert subs["total_investment_yuan"].notna().sum() >= 3  # the choropleth has data


@pytest.mark.integration
def test_real_atlas_subdistricts_do_not_overlap(built):
    """The 街道 areas of the atlas are a tiling a per-街道 sum can trust: no two overlap.
    上街区's six 街道 share one unknown division, so only the one the reports name
    (中心路街道) is drawn, as its whole district at precision `district`."""
    _, out = built
    areas = _layer(out / "atlas.gpkg", "areas")
    subs = areas[areas["kind"] == "subdistrict"].to_crs(4547).reset_index(drop=True)
    for i in range(len(subs)):
        for j in range(i + 1, len(subs)):
            shared = subs.geometry[i].intersection(subs.geometry[j]).area
            assert shared < 100.0, (subs["name"][i], subs["name"][j], shared)
    shangjie = subs[subs["district"] == "上街区"]
    assert list(shangjie["name"]) == ["中心路街道"]
    assert list(shangjie["precision"]) == ["district"]


@pytest.mark.integration
def test_real_atlas_keeps_every_mention(built):
    summary, out = built
    mentions = _table(out / "atlas.gpkg", "mentions")
    assert len(mentions) == summary.mentions
    assert set(mentions["status"]) <= {"ok", "unresolved"}
    unresolved = mentions[mentions["status"] == "unresolved"]
    assert set(unresolved["name"]) == set(summary.unresolved)
    # every resolved mention points at a feature that exists in its layer
    ids = {l: set(_layer(out / "atlas.gpkg", l)["id"]) for l in ("sites", "roads", "areas")}
    ok = mentions[mentions["status"] == "ok"]
    assert all(fid in ids[layer] for fid, layer in zip(ok["feature_id"], ok["layer"]))
    # 煤机路 is a road of 三官庙街道 named in the reports
    assert "road" in set(mentions[mentions["name"] == "煤机路"]["place_type"])


@pytest.mark.integration
def test_real_atlas_metric_join(built):
    _, out = built
    metrics = _table(out / "atlas.gpkg", "metrics")
    assert len(metrics) > 50
    invest = metrics[(metrics["metric"].str.contains("投资")) & (metrics["unit"] == "元")]
    assert len(invest) > 0
    # a joined investment shows up on its feature, in yuan
    joined = invest[invest["subject_id"].notna()]
    if len(joined):
        row = joined.iloc[0]
        layer = _layer(out / "atlas.gpkg", row["subject_layer"]).set_index("id")
        feature = layer.loc[row["subject_id"]]
        assert feature["total_investment_yuan"] >= row["value"] or feature["kind"] in ("subdistrict", "district")


def test_cli_build_prints_summary_table(tmp_path, monkeypatch, capsys):
    import reportatlas.layers as layers_module
    from reportatlas.cli import main
    from reportatlas.cli._common import display_width

    real = layers_module.build_atlas

    def with_fakes(reports, **kw):
        return real(reports, extraction=fake_extraction(), gazetteer=FakeGazetteer(),
                    geocoder=FakeGeocoder(), **kw)

    monkeypatch.setattr(layers_module, "build_atlas", with_fakes)
    assert main(["build", "--out", str(tmp_path), "--no-maps"]) == 0
    err = capsys.readouterr().err
    assert "unresolved: 不存在的路" in err
    table = [line for line in err.splitlines() if line.startswith(("sites", "roads", "areas"))]
    assert len(table) == 3
    assert len({display_width(line) for line in table}) == 1  # columns line up
    assert (tmp_path / "atlas.gpkg").is_file() and not (tmp_path / "maps").exists()
    assert main(["build", "--out", str(tmp_path), "--no-maps", "-q"]) == 0
    assert capsys.readouterr().err == ""


def test_binary_report_is_one_error_and_no_output(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x00\x01\x02 not text")
    proc = subprocess.run([sys.executable, "-m", "reportatlas", "-q", "build", str(bad),
                           "--out", str(tmp_path / "out")], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "bad.txt" in proc.stderr
    assert not (tmp_path / "out" / "atlas.gpkg").exists()
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_rebuild_replaces_maps_but_keeps_a_users_other_files(tmp_path):
    _build(tmp_path, maps=True)
    (tmp_path / "maps" / "notes.txt").write_text("我的备注", encoding="utf-8")
    (tmp_path / "maps" / "stale.html").write_text("<p>old map</p>", encoding="utf-8")
    _build(tmp_path, maps=True)
    assert (tmp_path / "maps" / "notes.txt").read_text(encoding="utf-8") == "我的备注"
    assert not (tmp_path / "maps" / "stale.html").exists()  # maps are the build's own
    assert (tmp_path / "maps" / "index.html").exists()


IMPORT_CHECK = """
import sys
from reportatlas.cli import main
code = main(["-q", "build", sys.argv[1], "--out", sys.argv[2]])
heavy = ("folium", "jinja2", "branca", "dask", "distributed", "duckdb", "playwright", "matplotlib",
         "pandas", "geopandas", "pyogrio", "pyproj")
print(code, " ".join(sorted({m.split(".")[0] for m in sys.modules} & set(heavy))))
"""


def _import_runs(tmp_path, *, fork: bool) -> list[list[str]]:
    """(exit code, heavy modules the build's own process imported) of a cold and a warm build."""
    env = dict(__import__("os").environ, REPORTATLAS_CACHE_DIR=str(tmp_path / "cache"),
               REPORTATLAS_BUILD_FORK="1" if fork else "0")
    out = []
    for i in range(2):
        run = subprocess.run([sys.executable, "-c", IMPORT_CHECK, str(tmp_path / "r.txt"), str(tmp_path / f"out{i}")],
                             capture_output=True, text=True, env=env, timeout=300)
        assert run.returncode == 0, run.stderr
        out.append(run.stdout.split(None, 1) + [""])
        assert (tmp_path / f"out{i}" / "maps" / "index.html").is_file()
    return out


def test_build_imports_nothing_it_does_not_need(tmp_path):
    # a report of our own; the first build fills the cache, the second shows a warm build's imports
    (tmp_path / "r.txt").write_text("须水街道\n须水街道推进煤机路改造，总投资3亿元。\n", encoding="utf-8")
    cold, warm = _import_runs(tmp_path, fork=False)   # one process: every import is seen
    assert cold[0] == warm[0] == "0"
    assert "folium" in cold[1]          # the first build renders the page skeleton with folium…
    assert warm[1].split() == ["geopandas", "pandas", "pyogrio", "pyproj"]   # …later builds only the writer's
    assert len(list((tmp_path / "cache").glob("mappage-*.html"))) == 1


def test_forked_build_keeps_pandas_out_of_the_build_process(tmp_path):
    # with a warm cache the build's own process reads, extracts and geocodes without pandas,
    # geopandas, pyogrio or pyproj: the writer process imports those meanwhile
    (tmp_path / "r.txt").write_text("须水街道\n须水街道推进煤机路改造，总投资3亿元。\n", encoding="utf-8")
    cold, warm = _import_runs(tmp_path, fork=True)
    assert cold[0] == warm[0] == "0"
    assert "pandas" in cold[1]          # a cold build reads the gazetteer into a GeoDataFrame
    assert warm[1].strip() == ""


def test_unsynced_writes_leave_a_sound_atlas_and_restore_gdal_settings(tmp_path):
    pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": "FULL"})
    try:
        summary = _build(tmp_path)
        assert pyogrio.get_gdal_config_option("OGR_SQLITE_SYNCHRONOUS") == "FULL"
    finally:
        pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": None})
    with sqlite3.connect(summary.atlas_path) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        indexed = {r[0] for r in con.execute(
            "SELECT table_name FROM gpkg_extensions WHERE extension_name = 'gpkg_rtree_index'")}
    assert indexed == {"sites", "roads", "areas"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["atlas.gpkg"]  # no journal or temp left
