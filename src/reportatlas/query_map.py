"""A small offline map of a query result (``reportatlas query … --map out.html``).

The target is drawn in red, the found features in blue; names go into tooltips escaped.
JavaScript and CSS are inlined by render_assets.inline_assets (as in the atlas maps), so the page
works without network.
"""
from __future__ import annotations

import html
from pathlib import Path

from ._files import atomic_write_text


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

    from .render_assets import inline_assets

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
    atomic_write_text(out, inline_assets(fmap.get_root().render()))
    return out


def _draw(geom, tooltip: str, colour: str, *, weight: int = 2):
    import folium
    from shapely.geometry import mapping

    if geom.geom_type == "Point":
        return folium.CircleMarker([geom.y, geom.x], radius=6, color=colour, fill=True,
                                   fill_opacity=0.8, tooltip=folium.Tooltip(tooltip))
    style = {"color": colour, "weight": weight, "fillOpacity": 0.15}
    return folium.GeoJson(mapping(geom), style_function=lambda _f, s=style: s, tooltip=folium.Tooltip(tooltip))
