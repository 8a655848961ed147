"""The HTML maps, read as files: self-contained, escaped, complete (browser checks: test_browser)."""
from __future__ import annotations

import json
import re

import pytest
from _atlas_fakes import HOSTILE, FakeGazetteer, FakeGeocoder, fake_extraction

from reportatlas import render
from reportatlas.errors import InputError, InputFileNotFound
from reportatlas.layers import build_atlas
from reportatlas.render_assets import RenderError, check_offline, inline_assets

DATA = re.compile(r'<script type="application/json" id="ra-data">(.*?)</script>', re.S)


def payload(page) -> dict:
    text = page.read_text(encoding="utf-8")
    assert "ReportAtlas.init(" in text
    found = DATA.search(text)
    assert found, "no map data in the page"
    return json.loads(found.group(1))


@pytest.fixture(scope="module")
def maps(tmp_path_factory):
    out = tmp_path_factory.mktemp("maps_atlas")
    summary = build_atlas(out_dir=out, progress=False, extraction=fake_extraction(),
                          gazetteer=FakeGazetteer(), geocoder=FakeGeocoder())
    return summary


def test_one_map_per_subdistrict_and_an_overview(maps):
    names = sorted(p.name for p in maps.maps)
    assert names == ["index.html", "三官庙街道.html", "须水街道.html"]
    assert all(p.is_file() for p in maps.maps)
    links = payload(maps.maps_dir / "index.html")["links"]
    assert [l[1] for l in links] == ["index.html", "三官庙街道.html", "须水街道.html"]


def test_maps_load_nothing_from_the_network(maps):
    for page in maps.maps:
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"<script[^>]+src=[\"']?https?:", text)
        assert not re.search(r"<link[^>]+href=[\"']?https?:", text)
        assert "L.markerClusterGroup = " in text or "MarkerClusterGroup" in text
        assert "fontawesome" not in text.lower()
        assert len(text) < 1_500_000


def test_hostile_name_never_appears_as_markup(maps):
    for page in maps.maps:
        text = page.read_text(encoding="utf-8")
        assert "<img src=x" not in text
    # …but it is there, as data, in the map of its 街道
    names = [it[2]["n"] for layer in payload(maps.maps_dir / "须水街道.html")["layers"] for it in layer["items"]]
    assert HOSTILE in names


def test_overview_payload_has_layers_metrics_and_sentences(maps):
    data = payload(maps.maps_dir / "index.html")
    layers = {l["layer"]: l for l in data["layers"]}
    assert set(layers) == {"sites", "roads", "areas"}
    assert len(layers["sites"]["items"]) == 5
    assert layers["sites"]["cluster"] is True
    park = next(it[2] for it in layers["sites"]["items"] if it[2]["n"] == "芝麻街双创园")
    assert ["总投资", "3亿元"] == park["m"][[m[0] for m in park["m"]].index("总投资")][:2]
    r, a, t = park["s"][0]
    assert data["dict"]["reports"][r] == "r1.txt" and data["dict"]["sd"][a] == "三官庙街道"
    assert "芝麻街双创园" in data["dict"]["txt"][t]
    approx = next(it[2] for it in layers["sites"]["items"] if it[2]["n"] == "某某小微园")
    assert approx["a"] == 1 and approx["u"] > 1000
    choro = {c["key"]: c for c in data["choropleths"]}
    assert choro["choro_total_investment_yuan"]["show"] is True
    sgm = next(it[2] for it in layers["areas"]["items"] if it[2]["n"] == "三官庙街道")
    assert sgm["m"][0][:2] == ["总投资（合计）", "4.5亿元"]
    feats = choro["choro_total_investment_yuan"]["features"]
    areas = layers["areas"]["items"]
    assert sorted(areas[f["ref"]][2]["n"] for f in feats) == ["三官庙街道", "须水街道"]
    by_name = {f["n"]: f for f in feats}
    assert by_name["三官庙街道"]["label"] == "4.5亿元" and by_name["须水街道"]["label"] == "2000万元"
    assert by_name["三官庙街道"]["cls"] > by_name["须水街道"]["cls"]


def test_subdistrict_map_only_draws_its_own_sites(maps):
    data = payload(maps.maps_dir / "三官庙街道.html")
    sites = next(l for l in data["layers"] if l["layer"] == "sites")
    assert sorted(it[2]["n"] for it in sites["items"]) == ["某某小微园", "某某社区", "芝麻街双创园"]


def test_gcj02_offsets_match_the_datum_near_zhengzhou(maps):
    # /work/shared/geodata/README.md: GCJ-02 ≈ WGS-84 + (0.0061° lon, −0.0012° lat) here
    data = payload(maps.maps_dir / "index.html")
    sites = next(l for l in data["layers"] if l["layer"] == "sites")
    for g, q, _ in sites["items"]:
        assert q[0] * 1e-6 == pytest.approx(0.0061, abs=0.0006)
        assert q[1] * 1e-6 == pytest.approx(-0.0012, abs=0.0006)
    roads = next(l for l in data["layers"] if l["layer"] == "roads")
    g, q, _ = roads["items"][0]
    (x0, y0), (gx, gy) = g["coordinates"][0][0], q[0][0]
    assert gx - x0 == pytest.approx(0.0061, abs=0.0006) and gy - y0 == pytest.approx(-0.0012, abs=0.0006)


def test_basemaps_and_attribution(maps):
    text = (maps.maps_dir / "index.html").read_text(encoding="utf-8")
    assert "tile.openstreetmap.org" in text and "autonavi" in text
    assert "contributors (ODbL)" in text
    assert "GCJ-02" in text and "CC BY 4.0" in text


def test_user_layers_are_drawn(tmp_path):
    (tmp_path / "layers").mkdir()
    (tmp_path / "layers" / "clinics.geojson").write_text(json.dumps({
        "type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"name": HOSTILE, "beds": 12},
             "geometry": {"type": "Point", "coordinates": [113.62, 34.76]}}]}), encoding="utf-8")
    summary = build_atlas(out_dir=tmp_path, progress=False, extraction=fake_extraction(),
                          gazetteer=FakeGazetteer(), geocoder=FakeGeocoder())
    data = payload(summary.maps_dir / "index.html")
    user = next(l for l in data["layers"] if l["layer"] == "user_clinics")
    assert user["title"].endswith("clinics")
    assert user["items"][0][2]["props"] == [["beds", "12"]]
    assert "<img src=x" not in (summary.maps_dir / "index.html").read_text(encoding="utf-8")


def test_render_maps_reads_maps_dir_from_atlas(maps, tmp_path):
    written = render.render_maps(maps.atlas_path, tmp_path / "elsewhere")
    assert (tmp_path / "elsewhere" / "index.html") in written
    again = render.render_maps(maps.atlas_path)  # default: atlas_meta.maps_dir
    assert again[0].parent == maps.maps_dir


def test_render_errors_are_clear(tmp_path):
    with pytest.raises(InputFileNotFound, match="reportatlas build"):
        render.render_maps(tmp_path / "missing.gpkg")
    junk = tmp_path / "junk.gpkg"
    junk.write_text("not a geopackage", encoding="utf-8")
    with pytest.raises(InputError):
        render.render_maps(junk)


def test_check_offline_refuses_remote_assets():
    with pytest.raises(RenderError):
        check_offline('<script src="https://cdn.example.org/x.js"></script>')
    with pytest.raises(RenderError):
        check_offline("<style>@import url(https://fonts.example.org/a.css);</style>")
    with pytest.raises(RenderError):
        inline_assets('<script src="https://cdn.example.org/unknown.js"></script>')
    page = inline_assets('<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>'
                         '<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css"/>')
    assert "jquery" not in page.lower() and ".leaflet-container" in page


@pytest.mark.parametrize("value, unit, text", [
    (3e8, "元", "3亿元"), (2.5e7, "元", "2500万元"), (900.0, "元", "900元"),
    (20000.0, "平方米", "2万平方米"), (1.45e7, "平方米", "14.5平方公里"), (12.0, "个", "12个"),
    (35.5, "%", "35.5%"), (None, "元", ""),
])
def test_format_value(value, unit, text):
    assert render.format_value(value, unit) == text


def test_slug_keeps_chinese_and_drops_path_characters():
    assert render.slug("三官庙街道") == "三官庙街道"
    assert "/" not in render.slug("../a/b") and render.slug("../a/b")


def _without_ids(text: str) -> str:
    return re.sub(r"([a-z_]+)_[0-9a-f]{32}", r"\1_X", text)


def test_page_from_the_cached_skeleton_equals_a_fresh_folium_page(tmp_path, monkeypatch):
    monkeypatch.setenv("REPORTATLAS_CACHE_DIR", str(tmp_path / "cache"))
    data = {"title": "须水街道 · <b>x</b>", "layers": [], "note": "</script><img src=x>"}
    bounds = (113.50, 34.74, 113.58, 34.80)
    fresh = render._page_html(data, bounds, title="须水街道 <地图>")   # renders, fills the cache
    assert len(list((tmp_path / "cache").glob("mappage-*.html"))) == 1
    cached = render._page_html(data, bounds, title="须水街道 <地图>")  # from the cache file
    assert _without_ids(cached) == _without_ids(fresh)
    # …and both equal folium's own page with these values, assets inlined
    direct = inline_assets(render._folium_page(render._script_json(data), render._center(bounds),
                                               title_html="须水街道 &lt;地图&gt;"))
    assert _without_ids(direct) == _without_ids(fresh)
    assert "<title>须水街道 &lt;地图&gt;</title>" in fresh and "<img src=x>" not in fresh
    assert f"center: {json.dumps([(34.74 + 34.80) / 2, (113.50 + 113.58) / 2])}," in fresh


def test_a_tampered_cached_skeleton_is_not_used(tmp_path, monkeypatch):
    monkeypatch.setenv("REPORTATLAS_CACHE_DIR", str(tmp_path / "cache"))
    render._page_html({}, (113.5, 34.7, 113.6, 34.8), title="t")
    (cached,) = (tmp_path / "cache").glob("mappage-*.html")
    cached.write_text(cached.read_text(encoding="utf-8").replace(
        "<head>", '<head><script src="https://cdn.example.org/evil.js"></script>', 1), encoding="utf-8")
    page = render._page_html({}, (113.5, 34.7, 113.6, 34.8), title="t")
    check_offline(page)
    assert "evil.js" not in page


def test_no_cache_folder_means_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.setenv("REPORTATLAS_CACHE_DIR", "")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    page = render._page_html({"layers": []}, (113.5, 34.7, 113.6, 34.8), title="t")
    assert "ReportAtlas.init(" in page
    assert list(tmp_path.iterdir()) == []


def test_payload_text_reusing_geometry_json_equals_json_dumps():
    g1, q1 = [113.61234, 34.75], [6100, -1200]
    g2 = {"type": "LineString", "coordinates": [[113.6, 34.7], [113.61, 34.71]]}
    q2 = [[113.6061, 34.6988], [113.6161, 34.7088]]
    data = {"title": "标题 <x> & \u2028", "layers": [
        {"key": "sites", "items": [[g1, q1, {"n": HOSTILE, "m": [["总投资", "3亿元"]]}]], "pane": None},
        {"key": "roads", "items": [[g2, q2, {"n": "煤机路"}]], "cluster": False},
        {"key": "empty", "items": []}], "choropleths": [], "bounds": None}
    texts = {id(x): json.dumps(x, ensure_ascii=False, separators=(",", ":")) for x in (g1, q1, g2, q2)}
    expected = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    assert render._payload_text(data, texts) == expected
    assert render._script_json(data, texts) == render._script_json(data)
    assert "<" not in render._script_json(data, texts) and json.loads(render._script_json(data, texts)) == data
