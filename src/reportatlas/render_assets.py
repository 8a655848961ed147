"""Make a rendered folium page self-contained: every script and stylesheet inline.

folium 0.20 links its JavaScript and CSS from CDNs.  ``folium-offline`` ships the same
files keyed by those URLs (``offlinefolium.elements._res``); we put their text into the
page instead of the link.  Libraries we do not use (jQuery, Bootstrap, Font Awesome and
awesome-markers: our markers are vector circles) are dropped, so the page neither fetches
icon fonts nor grows by a megabyte.  Anything still pointing at http(s) afterwards is an
error: a map that silently needs the network is a broken deliverable.
"""
from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

from .errors import ReportAtlasError

#: CDN files folium adds by default that our maps do not use
UNUSED = (
    "jquery", "bootstrap", "awesome-markers", "fontawesome", "leaflet.awesome.rotate",
)

_SCRIPT = re.compile(r"""<script\s+src=["'](https?://[^"']+)["']\s*>\s*</script>""", re.I)
_LINK = re.compile(r"""<link\s+rel=["']stylesheet["']\s+href=["'](https?://[^"']+)["']\s*/?>""", re.I)
_REMOTE = re.compile(r"""<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.I)
_CSS_REMOTE = re.compile(r"""(?:@import|url\()\s*["']?(?:https?:)?//""", re.I)


class RenderError(ReportAtlasError, RuntimeError):
    """A map could not be made self-contained."""


@lru_cache(maxsize=1)
def _offline_resources() -> dict[str, str]:
    try:
        from offlinefolium.elements import _res
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise RenderError("folium-offline is not installed; run: pip install folium-offline==0.20.0.2") from exc
    return dict(_res)


def own_asset(name: str) -> str:
    """Text of one of our own assets (src/reportatlas/assets/)."""
    return resources.files("reportatlas").joinpath("assets", name).read_text(encoding="utf-8")


def _unused(url: str) -> bool:
    low = url.lower()
    return any(word in low for word in UNUSED)


def _script_text(js: str) -> str:
    return js.replace("</script", "<\\/script")


def inline_assets(html: str) -> str:
    """Replace CDN ``<script src>`` / stylesheet links with the files' text (see module doc)."""
    res = _offline_resources()

    def script(match: re.Match) -> str:
        url = match.group(1)
        if _unused(url):
            return ""
        if url not in res:
            raise RenderError(f"no offline copy of {url}; add it to render_assets or drop the plugin")
        return f"<script>{_script_text(res[url])}</script>"

    def link(match: re.Match) -> str:
        url = match.group(1)
        if _unused(url):
            return ""
        if url not in res:
            raise RenderError(f"no offline copy of {url}; add it to render_assets or drop the plugin")
        return f"<style>{res[url]}</style>"

    html = _SCRIPT.sub(script, html)
    html = _LINK.sub(link, html)
    check_offline(html)
    return html


def check_offline(html: str) -> None:
    """Raise RenderError if the page still loads a script, stylesheet or image from the web."""
    for pattern in (_REMOTE, _CSS_REMOTE):
        found = pattern.search(html)
        if found:
            start = max(found.start() - 20, 0)
            raise RenderError(f"map still loads from the network: …{html[start:found.end() + 60]}…")
