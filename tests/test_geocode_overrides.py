"""User overrides (CSV / GeoJSON, datums) and online providers against a fake local server."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import prcoords
import pytest

from reportatlas.errors import DatumError, GeometryError, InputError, InputFileNotFound
from reportatlas.geocode import Geocoder
from reportatlas.online import OnlineError, OnlineGeocoder
from reportatlas.overrides import load_overrides
from test_geocode_world import metres, world

TRUE = (113.6012, 34.7561)   # a WGS-84 position used throughout


def gcj(lon, lat):
    c = prcoords.wgs_gcj(prcoords.Coords(lat, lon))
    return c.lon, c.lat


def bd(lon, lat):
    c = prcoords.wgs_bd(prcoords.Coords(lat, lon))
    return c.lon, c.lat


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- overrides ---------------------------------------------------------------------------------------

def test_override_takes_precedence_over_the_gazetteer(tmp_path):
    path = write(tmp_path, "better.csv", f"name,lon,lat\n须水站,{TRUE[0]},{TRUE[1]}\n")
    res = Geocoder(world(), overrides=[path]).geocode("须水站")
    assert (res.lon, res.lat) == pytest.approx(TRUE)
    assert res.precision == "exact" and res.source == "override:better.csv"
    assert res.kind == "metro_station"    # the kind of the entry it replaces
    # without the file the gazetteer's own position comes back
    assert Geocoder(world(), overrides=[]).geocode("须水站").lon == pytest.approx(113.55)


@pytest.mark.parametrize("datum,convert", [("gcj02", gcj), ("bd09", bd), ("wgs84", lambda x, y: (x, y)),
                                           ("cgcs2000", lambda x, y: (x, y))])
def test_override_datum_is_converted_to_wgs84(tmp_path, datum, convert):
    lon, lat = convert(*TRUE)
    path = write(tmp_path, "o.csv", f"name,lon,lat,datum\n新地点,{lon:.7f},{lat:.7f},{datum}\n")
    res = Geocoder(world(), overrides=[path]).geocode("新地点")
    assert metres((res.lon, res.lat), TRUE) < 1.0
    if datum in ("gcj02", "bd09"):
        assert metres((lon, lat), TRUE) > 300   # the conversion mattered


def test_datum_option_applies_to_rows_without_one(tmp_path):
    lon, lat = gcj(*TRUE)
    path = write(tmp_path, "o.csv", f"name,lon,lat\n新地点,{lon:.7f},{lat:.7f}\n")
    res = Geocoder(world(), overrides=[path], overrides_datum="gcj02").geocode("新地点")
    assert metres((res.lon, res.lat), TRUE) < 1.0


def test_override_wkt_line_and_geojson_polygon(tmp_path):
    csv = write(tmp_path, "lines.csv", 'name,wkt\n新路,"LINESTRING (113.61 34.70, 113.61 34.74)"\n')
    gj = write(tmp_path, "areas.geojson", json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"name": "新园区", "aliases": "新园"},
        "geometry": {"type": "Polygon", "coordinates": [[[113.61, 34.76], [113.62, 34.76], [113.62, 34.77],
                                                         [113.61, 34.77], [113.61, 34.76]]]}}]}))
    coder = Geocoder(world(), overrides=[csv, gj])
    line = coder.geocode("新路")
    assert line.geometry_type == "LineString" and line.lat == pytest.approx(34.72) and line.subdistrict == "乙街道"
    area = coder.geocode("新园")
    assert area.geometry_type == "Polygon" and area.geometry.contains(area.geometry.centroid)
    assert area.source == "override:areas.geojson"


@pytest.mark.parametrize("text,error,words", [
    ("name,lon,lat\n新地点,34.75,113.60\n", GeometryError, "swapped"),
    ("name,lon,lat\n新地点,213.6,34.7\n", GeometryError, "out of range"),
    ("name,lon,lat\n新地点,abc,34.7\n", GeometryError, "not numbers"),
    ("name,lon,lat,datum\n新地点,113.6,34.7,mars\n", DatumError, "unknown datum"),
    ("name,lon,lat,datum\n新地点,2.35,48.85,gcj02\n", DatumError, "inside China"),
    ("name,x,y\n新地点,113.6,34.7\n", InputError, "expected columns"),
    ('name,wkt\n新地点,"POINT (1 2"\n', GeometryError, "WKT"),
    ("name,lon,lat\n,113.6,34.7\n", InputError, "empty name"),
])
def test_malformed_overrides_are_one_clear_error(tmp_path, text, error, words):
    path = write(tmp_path, "bad.csv", text)
    with pytest.raises(error) as err:
        load_overrides(path)
    message = str(err.value)
    assert words in message and "bad.csv" in message and "\n" not in message


def test_missing_or_unsupported_override_files(tmp_path):
    with pytest.raises(InputFileNotFound):
        load_overrides(tmp_path / "nope.csv")
    with pytest.raises(InputError):
        load_overrides(write(tmp_path, "o.xlsx", "x"))
    with pytest.raises(InputError, match="not valid JSON"):
        load_overrides(write(tmp_path, "o.geojson", "{nope"))


def test_default_override_file_in_geodata(tmp_path, monkeypatch):
    write(tmp_path, "overrides.csv", f"name,lon,lat\n张庄村,{TRUE[0]},{TRUE[1]}\n")
    monkeypatch.setenv("REPORTATLAS_GEODATA", str(tmp_path))
    assert Geocoder(world()).geocode("张庄村").source == "override:overrides.csv"
    assert Geocoder(world(), overrides=[]).geocode("张庄村").source == "test-fixture"


# --- online providers, fake server -------------------------------------------------------------------

class FakeServer:
    """A local HTTP server answering like Amap / Tianditu / Nominatim; records every request."""

    def __init__(self):
        self.requests: list[tuple[str, dict]] = []
        self.fail = False
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                url = urlparse(self.path)
                params = {k: v[0] for k, v in parse_qs(url.query).items()}
                outer.requests.append((url.path, params))
                if outer.fail:
                    self.send_response(500)
                    self.end_headers()
                    return
                body = outer.answer(url.path, params)
                data = json.dumps(body, ensure_ascii=False).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def answer(self, path, params):
        if path == "/v3/geocode/geo":
            if params.get("key") != "k123":
                return {"status": "0", "info": "INVALID_USER_KEY"}
            if "找不到" in params["address"]:
                return {"status": "1", "geocodes": []}
            lon, lat = gcj(*TRUE)
            return {"status": "1", "geocodes": [{"formatted_address": "河南省郑州市某处", "level": "兴趣点",
                                                 "location": f"{lon:.6f},{lat:.6f}"}]}
        if path == "/geocoder":
            return {"status": "0", "location": {"lon": TRUE[0], "lat": TRUE[1], "level": "道路", "keyWord": "某路"}}
        if path == "/search":
            return [{"lat": str(TRUE[1]), "lon": str(TRUE[0]), "name": "某处", "category": "amenity"}]
        return {}

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    srv = FakeServer()
    yield srv
    srv.close()


def test_amap_answer_is_converted_from_gcj02_and_cached(server, tmp_path):
    online = OnlineGeocoder("amap", key="k123", base_url=server.url, cache_dir=tmp_path)
    coder = Geocoder(world(), overrides=[], online=online)
    res = coder.geocode("某个新小区")
    assert res.ok and res.source == "online:amap" and res.precision == "exact"
    assert metres((res.lon, res.lat), TRUE) < 1.0
    assert len(server.requests) == 1 and server.requests[0][1]["key"] == "k123"
    # a new geocoder (no in-memory memo) reads the disk cache: no second request
    again = Geocoder(world(), overrides=[], online=OnlineGeocoder("amap", key="k123", base_url=server.url,
                                                                 cache_dir=tmp_path)).geocode("某个新小区")
    assert (again.lon, again.lat) == (res.lon, res.lat)
    assert len(server.requests) == 1
    assert not any("k123" in p.read_text() for p in tmp_path.rglob("*.json"))   # keys never cached


def test_online_is_not_asked_when_the_gazetteer_knows_the_name(server, tmp_path):
    online = OnlineGeocoder("amap", key="k123", base_url=server.url, cache_dir=tmp_path)
    res = Geocoder(world(), overrides=[], online=online).geocode("须水站")
    assert res.source == "test-fixture" and server.requests == []


def test_online_nothing_found_stays_unresolved(server, tmp_path):
    online = OnlineGeocoder("amap", key="k123", base_url=server.url, cache_dir=tmp_path)
    assert Geocoder(world(), overrides=[], online=online).geocode("找不到的地方").status == "unresolved"


@pytest.mark.parametrize("provider,precision", [("tianditu", "road"), ("nominatim", "exact")])
def test_tianditu_and_nominatim(server, tmp_path, provider, precision):
    online = OnlineGeocoder(provider, key="k123", base_url=server.url, cache_dir=tmp_path)
    res = Geocoder(world(), overrides=[], online=online).geocode("某个新小区")
    assert res.source == f"online:{provider}" and res.precision == precision
    assert (res.lon, res.lat) == pytest.approx(TRUE)   # CGCS2000 / WGS-84: no shift


def test_online_errors_are_one_line(server, tmp_path):
    with pytest.raises(OnlineError, match="INVALID_USER_KEY"):
        OnlineGeocoder("amap", key="wrong", base_url=server.url, cache_dir=tmp_path).lookup("某处")
    server.fail = True
    with pytest.raises(OnlineError, match="HTTP 500"):
        OnlineGeocoder("nominatim", base_url=server.url, cache_dir=tmp_path).lookup("另一处")


def test_online_needs_an_explicit_provider_and_key(monkeypatch):
    monkeypatch.delenv("REPORTATLAS_AMAP_KEY", raising=False)
    with pytest.raises(InputError, match="needs a key"):
        OnlineGeocoder("amap")
    with pytest.raises(InputError, match="unknown online provider"):
        OnlineGeocoder("google")
    monkeypatch.setenv("REPORTATLAS_AMAP_KEY", "fromenv")
    assert OnlineGeocoder("amap").key == "fromenv"
