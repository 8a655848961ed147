"""A small offline map of a query result (``reportatlas query … --map out.html``).

The target is drawn in red, the found features in blue; names go into tooltips escaped.
JavaScript and CSS are inlined (render_assets.inline_assets when it exists, otherwise the assets
that folium-offline ships keyed by folium's CDN URLs), so the page works without network.
"""
from __future__ import annotations

import html
import logging
import os
import re
import tempfile
from pathlib import Path

log = logging.getLogger("reportatlas.query")

_SCRIPT = re.compile(r'<script\s+src="(https?://[^"]+)"\s*>\s*</script>')
_LINK = re.compile(r'<link\s+rel="stylesheet"\s+href="(https?://[^"]+)"\s*/?>')


def inline_assets(page: str) -> str:
    """Replace CDN <script src>/<link href> tags by the asset text (folium-offline's copies)."""
    try:
        from .render_assets import inline_assets as render_inline
    except ImportError:
        render_inline = None
    if render_inline is not None:
        return render_inline(page)
    from offlinefolium.elements import _res as assets

    missing = []

    def script(match):
        text = assets.get(match.group(1))
        if text is None:
            missing.append(match.group(1))
            return ""
        return "<script>" + text.replace("</script", "<\\/script") + "</script>"

    def style(match):
        text = assets.get(match.group(1))
        if text is None:
            missing.append(match.group(1))
            return ""
        return "<style>" + text.replace("</style", "<\\/style") + "</style>"

    page = _LINK.sub(style, _SCRIPT.sub(script, page))
    if missing:
        log.warning("no offline copy of %s; left out of the map", ", ".join(missing))
    return page


def _tooltip(row, columns) -> str:
    parts = []
    for col in columns:
        value = row.get(col)
        if value is None or value != value or value == "":
            continue
        if col == "distance_m":
            value = f"{float(value):,.0f} m"
        parts.append(f"{html.escape(str(col))}: {html.escape(str(value))}")
    return "<br>".join(parts)


def result_map(found, target=None, *, title: str = "", out: str | Path) -> Path:
    """Write an HTML map of ``found`` (GeoDataFrame, WGS-84) around ``target``."""
    import folium
    import geopandas as gpd

    out = Path(out)
    shapes = [g for g in found.geometry.values if g is not None and not g.is_empty]
    if target is not None and target.geometry is not None:
        shapes.append(target.geometry)
    fmap = folium.Map(tiles=None, control_scale=True)
    cols = [c for c in ("name", "layer", "kind", "subdistrict", "precision", "distance_m") if c in found.columns]
    group = folium.FeatureGroup(name=html.escape(title or "result"))
    for geom, (_, row) in zip(found.geometry.values, found.iterrows()):
        if geom is None or geom.is_empty:
            continue
        _draw(geom, _tooltip(row, cols), "#1f6fd1").add_to(group)
    group.add_to(fmap)
    if target is not None and target.geometry is not None:
        tip = f"target: {html.escape(target.name)}"
        _draw(target.geometry, tip, "#d12f1f", weight=4).add_to(fmap)
    if shapes:
        minx, miny, maxx, maxy = gpd.GeoSeries(shapes, crs=4326).total_bounds
        fmap.fit_bounds([[miny, minx], [maxy, maxx]], padding=(20, 20))
    folium.LayerControl().add_to(fmap)
    page = inline_assets(fmap.get_root().render())
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=".html", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(page)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return out


def _draw(geom, tooltip: str, colour: str, *, weight: int = 2):
    import folium
    from shapely.geometry import mapping

    if geom.geom_type == "Point":
        return folium.CircleMarker([geom.y, geom.x], radius=6, color=colour, fill=True,
                                   fill_opacity=0.8, tooltip=folium.Tooltip(tooltip))
    style = {"color": colour, "weight": weight, "fillOpacity": 0.15}
    return folium.GeoJson(mapping(geom), style_function=lambda _f, s=style: s, tooltip=folium.Tooltip(tooltip))
