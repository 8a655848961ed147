"""Optional online geocoders (Amap, Tianditu, Nominatim), OFF unless asked for explicitly.

Each answer is cached on disk (one JSON file per request, keyed by provider, base URL and
query; never by the key) so a second run makes no request.  Coordinates are converted to
WGS-84: Amap answers in GCJ-02 (converted with prcoords), Tianditu in CGCS2000 (equal to
WGS-84 for mapping), Nominatim in WGS-84.  Base URLs can be overridden (``base_url=`` or
``REPORTATLAS_<PROVIDER>_URL``); keys come from ``key=`` or ``REPORTATLAS_<PROVIDER>_KEY``.
"""
from __future__ import annotations

import hashlib
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError, ReportAtlasError

PROVIDERS = {
    "amap": {"url": "https://restapi.amap.com", "datum": "gcj02", "needs_key": True},
    "tianditu": {"url": "https://api.tianditu.gov.cn", "datum": "cgcs2000", "needs_key": True},
    "nominatim": {"url": "https://nominatim.openstreetmap.org", "datum": "wgs84", "needs_key": False},
}

_AMAP_LEVELS = {"兴趣点": "exact", "门牌号": "nearby", "单元号": "exact", "道路交叉路口": "intersection",
                "道路": "road", "村庄": "community", "乡镇": "subdistrict", "区县": "district"}


class OnlineError(ReportAtlasError, ConnectionError):
    """An online geocoder could not be reached or answered with an error."""


@dataclass(frozen=True)
class OnlineHit:
    name: str
    lon: float          # WGS-84
    lat: float
    precision: str
    source: str         # e.g. "online:amap"
    datum_in: str


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "reportatlas"


class OnlineGeocoder:
    """One online provider with an on-disk cache.  ``requests_made`` counts real requests."""

    def __init__(self, provider: str, *, key: str | None = None, base_url: str | None = None,
                 cache_dir: str | Path | None = None, city: str = "郑州", timeout: float = 10.0):
        provider = provider.lower()
        if provider not in PROVIDERS:
            raise InputError(f"unknown online provider {provider!r}: expected one of {', '.join(PROVIDERS)}")
        spec = PROVIDERS[provider]
        env = provider.upper()
        self.provider = provider
        self.key = key or os.environ.get(f"REPORTATLAS_{env}_KEY")
        if spec["needs_key"] and not self.key:
            raise InputError(f"the {provider} geocoder needs a key: pass --key or set REPORTATLAS_{env}_KEY")
        self.base_url = (base_url or os.environ.get(f"REPORTATLAS_{env}_URL") or spec["url"]).rstrip("/")
        self.datum = spec["datum"]
        self.cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
        self.city = city
        self.timeout = timeout
        self.requests_made = 0

    # -- requests and cache ---------------------------------------------------------------
    def _request(self, query: str) -> tuple[str, dict]:
        if self.provider == "amap":
            params = {"address": query, "city": self.city, "output": "JSON"}
            path = "/v3/geocode/geo"
        elif self.provider == "tianditu":
            params = {"ds": json.dumps({"keyWord": f"{self.city}市{query}"}, ensure_ascii=False)}
            path = "/geocoder"
        else:
            params = {"q": f"{query}, {self.city}", "format": "jsonv2", "limit": "1", "accept-language": "zh"}
            path = "/search"
        return path, params

    def _cache_file(self, path: str, params: dict) -> Path:
        ident = json.dumps([self.provider, self.base_url, path, params], ensure_ascii=False, sort_keys=True)
        return self.cache_dir / self.provider / (hashlib.sha256(ident.encode()).hexdigest()[:32] + ".json")

    def _fetch(self, query: str):
        path, params = self._request(query)
        cache = self._cache_file(path, params)
        if cache.is_file():
            try:
                return json.loads(cache.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                pass  # a damaged cache entry is simply fetched again
        sent = dict(params)
        if self.provider == "amap":
            sent["key"] = self.key
        elif self.provider == "tianditu":
            sent["tk"] = self.key
        url = f"{self.base_url}{path}?{urllib.parse.urlencode(sent)}"
        request = urllib.request.Request(url, headers={"User-Agent": "reportatlas/0.1 (offline atlas; geocoder)"})
        self.requests_made += 1
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as resp:
                body = json.loads(resp.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            raise OnlineError(f"{self.provider} geocoder answered HTTP {exc.code} for {query!r} ({self.base_url})") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise OnlineError(f"{self.provider} geocoder at {self.base_url} failed: {reason}") from None
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".tmp")
        tmp.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
        tmp.replace(cache)
        return body

    # -- parsing --------------------------------------------------------------------------
    def lookup(self, query: str) -> OnlineHit | None:
        """The provider's best answer in WGS-84, or None when it found nothing."""
        body = self._fetch(query)
        source = f"online:{self.provider}"
        if self.provider == "amap":
            if str(body.get("status")) != "1":
                raise OnlineError(f"amap geocoder refused the request: {body.get('info', 'no reason given')}")
            codes = body.get("geocodes") or []
            if not codes or not codes[0].get("location"):
                return None
            lon, lat = (float(v) for v in codes[0]["location"].split(","))
            lon, lat = _from_gcj02(lon, lat)
            precision = _AMAP_LEVELS.get(codes[0].get("level", ""), "nearby")
            name = codes[0].get("formatted_address") or query
        elif self.provider == "tianditu":
            loc = body.get("location") if str(body.get("status")) == "0" else None
            if not loc:
                return None
            lon, lat = float(loc["lon"]), float(loc["lat"])
            precision = _AMAP_LEVELS.get(loc.get("level", ""), "nearby")
            name = loc.get("keyWord") or query
        else:
            if not isinstance(body, list) or not body:
                return None
            hit = body[0]
            lon, lat = float(hit["lon"]), float(hit["lat"])
            cls = hit.get("category") or hit.get("class")
            precision = {"highway": "road", "boundary": "district", "place": "community"}.get(cls, "exact")
            name = (hit.get("name") or hit.get("display_name") or query).split(",")[0]
        return OnlineHit(name=name, lon=lon, lat=lat, precision=precision, source=source, datum_in=self.datum)


def _from_gcj02(lon: float, lat: float) -> tuple[float, float]:
    import prcoords

    c = prcoords.gcj_wgs_bored(prcoords.Coords(lat, lon))
    return c.lon, c.lat
