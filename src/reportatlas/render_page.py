"""One map page as HTML: folium's page, made self-contained once, filled in per page.

folium (with our AtlasData element: atlas.js, atlas.css and the data as a JSON script
element) renders the page once with stand-ins for the title, the centre and the data;
render_assets inlines its scripts and stylesheets; the result (the *skeleton*) is cached on
disk (:mod:`reportatlas.diskcache`) and filled in for every page, so drawing 26 maps
compiles no template and, once cached, does not even import folium.  The text of a page is
the text folium itself would write for it (tests/test_render.py compares them).
"""
from __future__ import annotations

from ._files import atomic_write_text

import html
import json
import re
from pathlib import Path

from .render_assets import RenderError, check_offline, inline_assets, own_asset

OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTR = ('&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> '
            'contributors (ODbL)')
GAODE_TILES = ("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1"
               "&style=8&x={x}&y={y}&z={z}")
GAODE_ATTR = ("&copy; 高德地图 AutoNavi &mdash; GCJ-02 底图：叠加数据已换算为 GCJ-02 "
              "(overlays shifted to GCJ-02 while this basemap is shown)")
#: attribution of the data drawn on every map (our constants, see /work/shared/geodata/README.md)
MARKERCLUSTER_JS = "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/leaflet.markercluster.js"
MARKERCLUSTER_CSS = ("https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.css",
                     "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.Default.css")



def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _payload_text(data: dict, texts: dict[int, str]) -> str:
    """``_dumps(data)``, reusing the JSON already made for the items' geometry (``texts``:
    id of a geometry part → its JSON).  Same text as json.dumps: objects are written key by
    key with the same separators."""
    def part(obj) -> str:
        text = texts.get(id(obj))
        return text if text is not None else _dumps(obj)

    def items(value) -> str:
        if not isinstance(value, list) or not all(isinstance(i, list) and len(i) == 3 for i in value):
            return _dumps(value)
        return "[" + ",".join(f"[{part(g)},{part(q)},{_dumps(p)}]" for g, q, p in value) + "]"

    def obj(value: dict, special) -> str:
        return "{" + ",".join(_dumps(str(k)) + ":" + special.get(k, _dumps)(v) for k, v in value.items()) + "}"

    def layers(value) -> str:
        if not isinstance(value, list) or not all(isinstance(l, dict) for l in value):
            return _dumps(value)
        return "[" + ",".join(obj(l, {"items": items}) for l in value) + "]"

    if not texts or not all(isinstance(k, str) for k in data):
        return _dumps(data)
    return obj(data, {"layers": layers})


def _script_json(data: dict, texts: dict[int, str] | None = None) -> str:
    text = _payload_text(data, texts) if texts else _dumps(data)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


# ----------------------------------------------------------------------------- pages

#: stand-ins rendered into the page skeleton once, replaced per page (see _Skeleton)
_TITLE_MARK = "@@reportatlas-title@@"
_DATA_MARK = "@@reportatlas-data@@"
_CENTER_MARK = (-89.0123456789, -179.0987654321)


def _folium_page(payload_json: str, center: tuple[float, float], *, title_html: str) -> str:
    """One folium page (basemaps, controls, our script and data), assets still on CDNs."""
    import folium
    from branca.element import Element, MacroElement
    from folium import plugins
    from folium.elements import JSCSSMixin
    from jinja2 import Template

    class AtlasData(JSCSSMixin, MacroElement):
        _template = Template(
            "{% macro header(this, kwargs) %}<style>{{ this.css }}</style>"
            "<script>{{ this.js }}</script>{% endmacro %}"
            # the data as JSON text (parsed faster than a 10 MB object literal)
            "{% macro html(this, kwargs) %}<script type=\"application/json\" id=\"ra-data\">"
            "{{ this.payload }}</script>{% endmacro %}"
            "{% macro script(this, kwargs) %}ReportAtlas.init({{ this._parent.get_name() }}, "
            "{{ this.control.get_name() }}, {{ this.gaode.get_name() }}, 'ra-data');"
            "{% endmacro %}")
        default_js = [("markercluster", MARKERCLUSTER_JS)]
        default_css = [("markerclustercss", MARKERCLUSTER_CSS[0]), ("markerclusterdefaultcss", MARKERCLUSTER_CSS[1])]

        def __init__(self, control, gaode, payload_json):
            super().__init__()
            self._name = "AtlasData"
            self.control, self.gaode, self.payload = control, gaode, payload_json
            self.js = own_asset("atlas.js").replace("</script", "<\\/script")
            self.css = own_asset("atlas.css")

    fmap = folium.Map(location=list(center), zoom_start=13, tiles=None, control_scale=True)
    folium.TileLayer(OSM_TILES, name="OpenStreetMap", attr=OSM_ATTR, max_zoom=19).add_to(fmap)
    gaode = folium.TileLayer(GAODE_TILES, name="高德地图 Gaode (GCJ-02)", attr=GAODE_ATTR,
                             subdomains="1234", max_zoom=18, show=False).add_to(fmap)
    plugins.Fullscreen(position="topleft", title="全屏 fullscreen", title_cancel="退出全屏").add_to(fmap)
    plugins.MeasureControl(position="topleft", primary_length_unit="meters",
                           secondary_length_unit="kilometers", primary_area_unit="sqmeters",
                           secondary_area_unit="hectares").add_to(fmap)
    control = folium.LayerControl(position="topright", collapsed=True).add_to(fmap)
    AtlasData(control, gaode, payload_json).add_to(fmap)
    root = fmap.get_root()
    root.header.add_child(Element(f"<title>{title_html}</title>"), name="title")
    return root.render()


def _center_json(center: tuple[float, float]) -> str:
    return json.dumps([float(center[0]), float(center[1])])  # as folium writes the location


class _Skeleton:
    """The page without its title, centre and data: rendered by folium and made
    self-contained ONCE, then filled in for every page (the same page folium would write,
    without compiling ~20 templates and inlining 0.4 MB of assets per page).  The filled-in
    skeleton is also kept in the disk cache (:mod:`reportatlas.diskcache`), keyed by the
    versions of folium and its assets and by the text of our renderer, so a build need not
    import folium at all."""

    def __init__(self, page: str | None = None) -> None:
        page = page if page is not None else _skeleton_page()
        center = _center_json(_CENTER_MARK)
        for mark in (_TITLE_MARK, _DATA_MARK, center):
            if page.count(mark) != 1:  # pragma: no cover - a folium upgrade changed its output
                raise RenderError(f"the map template has {page.count(mark)} places for {mark!r}, expected 1")
        self.parts = re.split("(" + "|".join(re.escape(m) for m in (_TITLE_MARK, _DATA_MARK, center)) + ")", page)
        self.center = center

    def fill(self, payload_json: str, center: tuple[float, float], *, title: str) -> str:
        values = {_TITLE_MARK: html.escape(title), _DATA_MARK: payload_json, self.center: _center_json(center)}
        return "".join(values.get(part, part) if i % 2 else part for i, part in enumerate(self.parts))


def _render_skeleton() -> str:
    return inline_assets(_folium_page(_DATA_MARK, _CENTER_MARK, title_html=_TITLE_MARK))


def _skeleton_key() -> str:
    """Everything the skeleton is made from: library versions, our renderer and assets."""
    from importlib import metadata

    from . import diskcache, render_assets

    versions = []
    for dist in ("folium", "folium-offline", "branca", "jinja2"):
        try:
            versions.append(f"{dist} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{dist} ?")
    sources = [Path(__file__).read_bytes(), Path(render_assets.__file__).read_bytes(),
               own_asset("atlas.js"), own_asset("atlas.css")]
    return diskcache.key("map skeleton 1", *versions, *sources)


def _skeleton_page() -> str:
    from . import diskcache

    try:
        cache_file = diskcache.path_for("mappage", _skeleton_key(), ".html")
    except OSError:  # pragma: no cover - our own files unreadable: no cache
        cache_file = None
    data = diskcache.read(cache_file)
    if data is not None:
        try:
            page = data.decode("utf-8")
            check_offline(page)
            _Skeleton(page)
            return page
        except (UnicodeDecodeError, RenderError):  # broken or tampered with: render again
            pass
    page = _render_skeleton()
    diskcache.write(cache_file, page.encode("utf-8"))
    return page


def _center(bounds) -> tuple[float, float]:
    (minx, miny, maxx, maxy) = bounds
    return ((miny + maxy) / 2, (minx + maxx) / 2)


def _page_html(payload: dict, bounds, *, title: str, skeleton: _Skeleton | None = None,
               texts: dict[int, str] | None = None) -> str:
    """The self-contained HTML of one map (pass ``skeleton`` to reuse one across pages, and
    ``texts`` for the JSON of geometry already written, see _payload_text)."""
    skeleton = skeleton or _Skeleton()
    return skeleton.fill(_script_json(payload, texts), _center(bounds), title=title)


_write_text = atomic_write_text  # the one implementation, in reportatlas._files
