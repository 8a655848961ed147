"""Take docs/overview.png: the overview map in headless Chromium with no network.

    .venv/bin/python docs/screenshot.py [maps/index.html] [docs/overview.png]

The basemap is switched to "none" (tiles need the network); everything else is drawn.
"""
from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]


def main(page_path: Path, out: Path) -> None:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.route("http*://**", lambda route: route.abort())
        page.goto(page_path.resolve().as_uri())
        page.wait_for_timeout(1500)
        # choose the blank basemap if the layer control offers one
        page.evaluate("""() => {
            for (const label of document.querySelectorAll('.leaflet-control-layers-base label')) {
                if (/无底图|none/i.test(label.textContent)) { label.querySelector('input').click(); }
            }
        }""")
        page.wait_for_timeout(800)
        page.screenshot(path=str(out))
        browser.close()


if __name__ == "__main__":
    args = sys.argv[1:]
    main(Path(args[0]) if args else ROOT / "maps" / "index.html",
         Path(args[1]) if len(args) > 1 else ROOT / "docs" / "overview.png")
