"""The maps in headless Chromium with no network: what a person would see and do."""
from __future__ import annotations

import pytest
from _atlas_fakes import HOSTILE, FakeGazetteer, FakeGeocoder, fake_extraction
from _atlas_real import real_atlas

from reportatlas.layers import build_atlas

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    import os

    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (make chromium)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class Page:
    """A map opened with every http(s) request aborted; records errors and dialogs."""

    def __init__(self, browser, path):
        self.page = browser.new_page(viewport={"width": 1280, "height": 800})
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.page.route(lambda url: url.startswith(("http://", "https://")), lambda route: route.abort())
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.goto(path.as_uri())
        self.page.wait_for_function("window.ReportAtlas && window.ReportAtlas.state")
        self.page.wait_for_timeout(300)

    def _console(self, msg):
        if msg.type != "error":
            return
        url = (msg.location or {}).get("url", "")
        if url.startswith(("http://", "https://")) and ("tile" in url or "autonavi" in url):
            return  # basemap tiles cannot load offline: expected
        self.errors.append(f"{msg.text} @ {url}")

    def js(self, expr, arg=None):
        return self.page.evaluate(expr, arg)

    def drawn(self, key):
        """Features of a layer on screen: its paths plus the counts on its cluster icons."""
        return self.js("""key => {
            const paths = document.querySelectorAll('path.ra-' + key).length;
            let clustered = 0;
            document.querySelectorAll('.marker-cluster span').forEach(s => clustered += +s.textContent);
            return paths + (key === 'sites' ? clustered : 0);
        }""", key)

    def click_at(self, lon, lat):
        x, y = self.js("""([lon, lat]) => {
            const map = ReportAtlas.state.layers[0].group._map || Object.values(window).find(v => v instanceof L.Map);
            const pt = map.latLngToContainerPoint([lat, lon]);
            const r = map.getContainer().getBoundingClientRect();
            return [r.left + pt.x, r.top + pt.y];
        }""", [lon, lat])
        self.page.mouse.click(x, y)

    def popup_text(self):
        self.page.wait_for_selector(".leaflet-popup-content .ra-popup", timeout=5000)
        return self.page.inner_text(".leaflet-popup-content")

    def search(self, text):
        self.page.fill(".ra-search-input", text)
        return self.page.locator(".ra-search-hit")

    def close(self):
        self.page.close()


MAP_JS = "Object.values(window).find(v => v instanceof L.Map)"


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    out = tmp_path_factory.mktemp("browser_atlas")
    return build_atlas(out_dir=out, progress=False, extraction=fake_extraction(),
                       gazetteer=FakeGazetteer(), geocoder=FakeGeocoder())


@pytest.fixture
def overview(browser, fake):
    page = Page(browser, fake.maps_dir / "index.html")
    yield page
    page.close()


def test_every_map_loads_without_errors(browser, fake):
    for path in fake.maps:
        page = Page(browser, path)
        assert page.errors == [], path.name
        assert page.js("document.querySelectorAll('.leaflet-control-layers').length") == 1
        page.close()


def test_drawn_features_equal_the_atlas(overview):
    assert overview.drawn("areas") == 3
    assert overview.drawn("roads") == 1
    assert overview.drawn("sites") == 5
    assert overview.js("document.querySelectorAll('path.ra-choro').length") == 2


def test_clicking_a_site_shows_its_metrics_and_sentences(overview):
    overview.js(f"{MAP_JS}.setView([34.752, 113.615], 17, {{animate: false}})")
    overview.page.wait_for_timeout(300)
    overview.click_at(113.615, 34.752)
    text = overview.popup_text()
    assert "芝麻街双创园" in text
    assert "总投资" in text and "3亿元" in text
    assert "占地面积" in text and "2万平方米" in text
    assert "r1.txt · 三官庙街道" in text


def test_switching_a_layer_off_hides_it(overview):
    assert overview.drawn("roads") == 1
    overview.page.hover(".leaflet-control-layers")
    overview.page.locator("label", has_text="道路 roads").locator("input").click()
    assert overview.drawn("roads") == 0
    overview.page.locator("label", has_text="道路 roads").locator("input").click()
    assert overview.drawn("roads") == 1


def test_search_finds_meijilu(overview):
    hits = overview.search("煤机")
    assert hits.first.inner_text().startswith("煤机路")
    hits.first.click()
    assert "煤机路" in overview.popup_text()


def test_hostile_name_is_shown_not_run(browser, fake):
    page = Page(browser, fake.maps_dir / "须水街道.html")
    hits = page.search("<img")
    assert page.page.inner_text(".ra-search-hit .ra-search-name") == HOSTILE
    hits.first.click()
    assert page.page.inner_text(".ra-popup-title") == HOSTILE
    assert HOSTILE in page.popup_text()  # its sentence, as text
    page.page.hover(".leaflet-popup-content")  # tooltip / popup both rendered
    page.page.wait_for_timeout(300)
    assert page.js("document.querySelectorAll('img[src=\"x\"]').length") == 0
    assert page.dialogs == [] and page.errors == []
    page.close()


def test_approximate_site_drawn_as_dashed_uncertainty_circle(overview):
    # both approximate sites sit at their 街道's point: clustered until zoom 16
    overview.js(f"{MAP_JS}.setView([34.755, 113.62], 16, {{animate: false}})")
    overview.page.wait_for_timeout(300)
    dashed = overview.js("""Array.from(document.querySelectorAll('.leaflet-ra-approx-pane path.ra-sites'))
                             .map(p => p.getAttribute('stroke-dasharray'))""")
    assert dashed == ["4 4", "4 4"]


def test_gaode_basemap_shifts_geometry_to_gcj02(overview):
    def site_lonlat():
        return overview.js("""() => {
            const e = ReportAtlas.state.layers.find(l => l.info.key === 'sites');
            const s = e.sub.find(l => l.feature.properties.n === '芝麻街双创园');
            const ll = s.getLatLng(); return [ll.lng, ll.lat];
        }""")

    assert site_lonlat() == pytest.approx([113.615, 34.752], abs=1e-9)
    overview.page.hover(".leaflet-control-layers")
    overview.page.locator("label", has_text="高德地图").locator("input").click()
    lon, lat = site_lonlat()
    assert lon - 113.615 == pytest.approx(0.0061, abs=0.0006)
    assert lat - 34.752 == pytest.approx(-0.0012, abs=0.0006)
    assert "GCJ-02" in overview.page.inner_text(".leaflet-control-attribution")
    overview.page.locator("label", has_text="无底图").locator("input").click()
    assert site_lonlat() == pytest.approx([113.615, 34.752], abs=1e-9)


def test_controls_legend_and_attribution(overview):
    for selector in (".leaflet-control-scale", ".leaflet-control-measure",
                     ".leaflet-control-zoom-fullscreen", ".ra-search-input", ".ra-legend", ".ra-nav"):
        assert overview.page.locator(selector).count() == 1, selector
    legend = overview.page.inner_text(".ra-legend")
    assert "街道 · 总投资" in legend and "道路" in legend and "近似" in legend
    attribution = overview.page.inner_text(".leaflet-control-attribution")
    assert "OpenStreetMap contributors" in attribution and "CC BY 4.0" in attribution


# ----------------------------------------------------------------------------- real reports

@pytest.fixture(scope="module")
def real(tmp_path_factory, shared_reports, shared_geodata):
    return real_atlas(tmp_path_factory, shared_reports, shared_geodata)


@pytest.mark.integration
def test_real_maps_load_and_draw_every_site(browser, real):
    import geopandas as gpd

    summary, out = real
    counts = {l: len(gpd.read_file(out / "atlas.gpkg", layer=l)) for l in ("sites", "roads", "areas")}
    for path in summary.maps:
        page = Page(browser, path)
        assert page.errors == [], path.name
        if path.name == "index.html":
            got = page.js("""() => Object.fromEntries(ReportAtlas.state.layers
                .filter(e => ['sites', 'roads', 'areas'].includes(e.info.key))
                .map(e => [e.info.key, e.cluster ? e.group.getLayers().length : e.sub.length]))""")
            assert got == counts
            assert page.drawn("roads") == counts["roads"]
        page.close()


@pytest.mark.integration
def test_real_overview_search_finds_meijilu(browser, real):
    summary, _ = real
    page = Page(browser, summary.maps_dir / "index.html")
    hits = page.search("煤机路")
    assert hits.count() >= 1
    hits.first.click()
    assert "煤机路" in page.popup_text()
    page.close()


def test_hostile_user_layer_title_and_name_are_text(browser, tmp_path):
    import json
    import sqlite3

    from reportatlas.render import render_maps

    (tmp_path / "layers").mkdir()
    (tmp_path / "layers" / "clinics.geojson").write_text(json.dumps({
        "type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"name": HOSTILE, "note": "<b>bold?</b>"},
             "geometry": {"type": "Point", "coordinates": [113.62, 34.76]}}]}), encoding="utf-8")
    summary = build_atlas(out_dir=tmp_path, progress=False, maps=False, extraction=fake_extraction(),
                          gazetteer=FakeGazetteer(), geocoder=FakeGeocoder())
    with sqlite3.connect(summary.atlas_path) as con:  # a title as a user might type it
        con.execute("UPDATE atlas_layers SET title = ? WHERE layer = 'user_clinics'", (HOSTILE,))
    render_maps(summary.atlas_path, tmp_path / "maps")
    page = Page(browser, tmp_path / "maps" / "index.html")
    page.page.hover(".leaflet-control-layers")
    labels = page.page.inner_text(".leaflet-control-layers-overlays")
    assert f"用户图层 · {HOSTILE}" in labels
    hits = page.search("<img")
    assert hits.count() == 2  # the site and the user-layer feature, both as text
    page.page.locator(".ra-search-hit", has_text="用户图层").first.click()
    text = page.popup_text()
    assert HOSTILE in text and "<b>bold?</b>" in text
    assert page.js("document.querySelectorAll('img[src=\"x\"], .leaflet-popup b').length") == 0
    assert page.dialogs == [] and page.errors == []
    page.close()
