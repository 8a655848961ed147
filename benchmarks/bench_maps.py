"""Maps at scale: reportatlas.render vs folium with one Marker per site.

For 1k, 10k and 100k synthetic sites (benchmarks/synth.py) we write a synthetic atlas
(the schema of docs/architecture.md: sites, one road, 14 synthetic 街道 cells, the tables),
render it with ``render.render_maps`` and open ``index.html`` in headless Chromium
(Debian's /usr/bin/chromium via Playwright, every http(s) request blocked).  The peer is
the map a user would make by hand: ``folium.Map`` + one ``folium.Marker`` per site, its
CDN assets inlined the same way (render_assets.inline_assets) so both open offline.

"Drawn" = time from navigation start until the number of drawn site elements (marker
icons, cluster icons, vector paths in the map) has stopped changing for 0.5 s, counted at
its last change: markercluster's chunked loading keeps adding after the load event.

    python benchmarks/bench_maps.py --sizes 1000,10000,100000
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from _harness import Figure, fmt_ratio, fmt_s, log, md_table, missing_module, once

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DRAWN_TIMEOUT_MS = 120_000

# Installed before the page's own scripts: records in window.__drawn the time (ms since
# navigation start) of the last change in the number of drawn elements, once that number
# has been > 0 and stable for 500 ms.
_WATCH_DRAWN = """
(() => {
  const sel = '.leaflet-marker-icon, .leaflet-pane path.leaflet-interactive, .marker-cluster';
  let last = -1, changed = 0;
  function tick() {
    const n = document.querySelectorAll(sel).length;
    const now = performance.now();
    if (n !== last) { last = n; changed = now; }
    if (n > 0 && now - changed > 500) { window.__drawn = {ms: changed, elements: n}; return; }
    setTimeout(tick, 25);
  }
  setTimeout(tick, 0);
})();
"""


def write_atlas(folder: Path, n: int, *, seed: int = 0) -> Path:
    """A synthetic atlas with ``n`` sites, following the schema of docs/architecture.md."""
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    import pyogrio

    import synth

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "atlas.gpkg"
    areas = synth.subdistrict_areas(seed=seed)
    sites = synth.sites(n, seed=seed)
    rng = np.random.default_rng(seed)
    joined = gpd.sjoin(sites[["geometry"]], areas[["name", "geometry"]], predicate="within", how="left")
    joined = joined[~joined.index.duplicated()]

    def common(frame, kind, precision):
        frame["district"] = "中原区"
        frame["precision"] = precision
        frame["confidence"] = 0.8
        frame["source"] = "synthetic"
        frame["mentions"] = 1
        frame["approximate"] = precision in ("subdistrict", "community")
        frame["metrics_json"] = "[]"
        frame["area_m2"] = np.nan
        if "kind" not in frame:
            frame["kind"] = kind
        return frame

    s = sites.copy()
    s["subdistrict"] = joined["name"].fillna("").to_numpy()
    s = common(s, "site", "exact")
    s["precision"] = rng.choice(["exact", "intersection", "road", "nearby"], n)
    s["approximate"] = s["precision"] == "nearby"
    road = gpd.GeoDataFrame({"id": ["road:示例路"], "name": ["示例路"], "subdistrict": [""],
                             "total_investment_yuan": [np.nan]}, geometry=[synth.road_line()], crs=4326)
    road = common(road, "road", "road")
    a = areas.copy()
    a["id"] = "subdistrict:" + a["name"]
    a["subdistrict"] = a["name"]
    a["total_investment_yuan"] = s.groupby("subdistrict")["total_investment_yuan"].sum().reindex(a["name"]).to_numpy()
    a = common(a, "subdistrict", "subdistrict")
    columns = ["id", "name", "kind", "subdistrict", "district", "precision", "confidence", "source", "mentions",
               "approximate", "metrics_json", "total_investment_yuan", "area_m2", "geometry"]
    for layer, frame in (("sites", s), ("roads", road), ("areas", a)):
        pyogrio.write_dataframe(frame[columns], path, layer=layer, driver="GPKG")
    mentions = pd.DataFrame({"report": "synthetic.txt", "article": s["subdistrict"], "start": 0, "end": 1,
                             "mention": s["name"], "name": s["name"], "place_type": "site",
                             "sentence": "（合成数据，无原文）", "feature_id": s["id"], "layer": "sites",
                             "status": "ok", "precision": s["precision"]})
    pyogrio.write_dataframe(mentions, path, layer="mentions", driver="GPKG")
    metrics = pd.DataFrame({"subject": s["name"], "subject_id": s["id"], "subject_layer": "sites",
                            "subdistrict": s["subdistrict"], "metric": "总投资", "value": s["total_investment_yuan"],
                            "unit": "元", "qualifier": "", "period": "", "quote": "", "raw": "",
                            "report": "synthetic.txt", "article": s["subdistrict"], "start": 0, "end": 1})
    pyogrio.write_dataframe(metrics, path, layer="metrics", driver="GPKG")
    catalogue = pd.DataFrame([{"name": name, "layer": name, "geometry_type": g, "role": "core", "title": name,
                               "source": "synthetic", "added": "2026-11-21T00:00:00Z"}
                              for name, g in (("sites", "Point"), ("roads", "LineString"), ("areas", "Polygon"))])
    pyogrio.write_dataframe(catalogue, path, layer="atlas_layers", driver="GPKG")
    meta = pd.DataFrame({"key": ["maps_dir", "built_at", "reports"],
                         "value": [str(folder / "maps"), "2026-11-21T00:00:00Z", json.dumps(["synthetic.txt"])]})
    pyogrio.write_dataframe(meta, path, layer="atlas_meta", driver="GPKG")
    return path


def folium_markers(sites, out: Path) -> Path:
    """The peer: folium, one Marker per site (tooltip = name), assets inlined for offline use."""
    import folium

    from reportatlas.render_assets import inline_assets

    fmap = folium.Map(location=[34.75, 113.60], zoom_start=12, tiles=None)
    for name, lon, lat in zip(sites["name"], sites.geometry.x, sites.geometry.y):
        folium.Marker([lat, lon], tooltip=name).add_to(fmap)
    out.write_text(inline_assets(fmap.get_root().render()), encoding="utf-8")
    return out


def _draw_once(html_path: Path) -> dict:
    """In this process: open the page and wait for window.__drawn (see _WATCH_DRAWN)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.route("http://**/*", lambda route: route.abort())
        page.route("https://**/*", lambda route: route.abort())
        page.add_init_script(_WATCH_DRAWN)
        page.goto(html_path.as_uri(), wait_until="commit", timeout=DRAWN_TIMEOUT_MS)
        page.wait_for_function("() => window.__drawn", timeout=DRAWN_TIMEOUT_MS, polling=100)
        result = page.evaluate("() => window.__drawn")
        browser.close()
    return {**result, "errors": errors[:3]}


def time_drawn(html_path: Path) -> tuple[float | None, int]:
    """Seconds until the map is drawn (see module doc) and how many elements were drawn;
    (None, 0) when that takes longer than DRAWN_TIMEOUT_MS.  Each page is opened by a child
    process with its own Chromium; past the time limit the whole process group is killed
    (a page busy drawing 100k markers does not answer Playwright's own timeouts)."""
    import os
    import signal
    import subprocess
    import sys

    cmd = [sys.executable, str(Path(__file__).resolve()), "--draw", str(html_path)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=DRAWN_TIMEOUT_MS / 1000 + 20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return None, 0
    try:
        result = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None, 0
    if result.get("errors"):
        log(f"maps: page errors in {html_path.name}: {result['errors']}")
    return (result["ms"] / 1000 if result.get("ms") is not None else None), result.get("elements", 0)


def _drawn(seconds: float | None, ran: bool) -> str:
    if not ran:
        return "–"
    return fmt_s(seconds) if seconds else f"not within {DRAWN_TIMEOUT_MS // 1000} s"


def run(*, quick: bool = False, sizes: list[int] | None = None) -> Figure:
    import synth

    sizes = sizes or ([1_000, 10_000] if quick else [1_000, 10_000, 100_000])
    missing = missing_module("render")
    fig = Figure("maps", "Maps at scale")
    rows, data = [], {}
    with tempfile.TemporaryDirectory(prefix="ra-maps-") as tmp:
        for n in sizes:
            log(f"maps: {n:,} sites")
            folder = Path(tmp) / str(n)
            atlas = write_atlas(folder, n)
            entry: dict = {}
            if missing is None:
                from reportatlas import render
                render_s, pages = once(lambda: render.render_maps(atlas, folder / "maps"))
                index = folder / "maps" / "index.html"
                drawn_s, elements = time_drawn(index)
                entry.update(render_s=render_s, pages=len(pages), mb=index.stat().st_size / 1e6,
                             drawn_s=drawn_s, elements=elements)
            peer_html = folder / "folium_markers.html"
            peer_render_s, _ = once(lambda: folium_markers(synth.sites(n, seed=0), peer_html))
            peer_drawn_s, peer_elements = time_drawn(peer_html)
            entry.update(peer_render_s=peer_render_s, peer_mb=peer_html.stat().st_size / 1e6,
                         peer_drawn_s=peer_drawn_s, peer_elements=peer_elements)
            data[n] = entry
            rows.append({
                "sites": f"{n:,}",
                "reportatlas HTML": f"{entry['mb']:.1f} MB" if "mb" in entry else "–",
                "folium Markers HTML": f"{entry['peer_mb']:.1f} MB",
                "reportatlas drawn": _drawn(entry.get("drawn_s"), "mb" in entry),
                "folium drawn": _drawn(peer_drawn_s, True),
                "drawn ratio": (fmt_ratio(entry.get("drawn_s"), peer_drawn_s) if peer_drawn_s or not entry.get("drawn_s")
                                else f"> {DRAWN_TIMEOUT_MS / 1000 / entry['drawn_s']:.0f}×"),
                "render (Python)": f"{fmt_s(entry.get('render_s'))} ({entry.get('pages', '–')} pages) / "
                                   f"{fmt_s(peer_render_s)}",
            })
    fig.data = data
    notes = [
        "HTML = the overview page index.html (the per-街道 pages are smaller); all assets inline in both.",
        "drawn = navigation start → the count of drawn site elements stops changing (0.5 s quiet), one load each, "
        "headless Chromium, 1280×800, http(s) blocked. ratio = folium time ÷ our time.",
        "render (Python) = ours: render_maps for every page / folium: building and writing the one page.",
    ]
    top = data.get(sizes[-1], {})
    if "mb" in top:
        drawn = top.get("drawn_s")
        notes.insert(0, f"**Targets at {sizes[-1]:,} sites** (< 15 MB, drawn < 3 s): {top['mb']:.1f} MB → "
                        f"{'met' if top['mb'] < 15 else 'NOT met'}; drawn "
                        f"{fmt_s(drawn) if drawn else 'never (timeout)'} → {'met' if drawn and drawn < 3 else 'NOT met'}.")
    if missing:
        notes.insert(0, f"**reportatlas.render did not run:** {missing}.")
    fig.markdown = md_table(rows, ["sites", "reportatlas HTML", "folium Markers HTML", "reportatlas drawn",
                                   "folium drawn", "drawn ratio", "render (Python)"]) + "\n\n" + \
        "\n".join(f"- {x}" for x in notes)
    return fig


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="map size and draw time vs folium Markers")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")])
    parser.add_argument("--draw", type=Path, help=argparse.SUPPRESS)   # child mode of time_drawn
    args = parser.parse_args(argv)
    if args.draw:
        print(json.dumps(_draw_once(args.draw)))
        return
    fig = run(quick=args.quick, sizes=args.sizes)
    print(fig.markdown)
    log(f"saved {fig.save()}")


if __name__ == "__main__":
    main()
