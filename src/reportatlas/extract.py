"""Extraction: place mentions and metrics from the reports, with offsets into the ORIGINAL text.

``extract(paths_or_reports, known_names=None)`` reads the reports (:mod:`reportatlas.corpus`),
splits them into articles owned by their 街道, finds the place mentions
(:mod:`reportatlas.placenames`) and the metrics (:func:`reportatlas.metrics.extract_metrics`,
when that module is available) and returns an :class:`Extraction`.

``known_names=None`` loads the committed gazetteer when it exists (``reportatlas.gazetteer``)
and otherwise falls back to the names of geodata/names/subdistrict_hierarchy.json; unknown
names are always found by their shape.
"""
from __future__ import annotations

import gc
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from .corpus import Article, Report, load_reports, split_articles

log = logging.getLogger("reportatlas.extract")

PLACE_TYPES = ("road", "site", "park", "residential_compound", "community", "village",
               "subdistrict", "district", "zone", "landmark", "metro_line", "river", "other")


@dataclass(frozen=True)
class KnownName:
    """A name the gazetteer knows: canonical ``name``, its ``kind`` (gazetteer kind or a
    place_type), the 街道 it belongs to (full name or "") and other spellings."""
    name: str
    kind: str
    subdistrict: str = ""
    aliases: tuple[str, ...] = ()


@dataclass
class PlaceMention:
    """One place mention; ``start``/``end`` are offsets into the ORIGINAL report text."""
    report: str
    article: str            # owner 街道, full name ("" if none)
    district: str
    mention: str            # surface form (normalised: no column line break, half-width)
    name: str               # canonical name
    place_type: str
    start: int
    end: int
    sentence: str = ""
    known: bool = False     # matched a known name (gazetteer or name list)

    def to_record(self) -> dict[str, Any]:
        return {"kind": "place", "report": self.report, "article": self.article,
                "mention": self.mention, "name": self.name, "place_type": self.place_type,
                "start": self.start, "end": self.end, "sentence": self.sentence,
                "district": self.district}


from .metrics import Metric, extract_metrics  # noqa: E402,F401  (Metric re-exported)


METRIC_FIELDS = ("report", "article", "subject", "metric", "value", "unit", "raw",
                 "qualifier", "period", "start", "end")


def metric_record(m: Any) -> dict[str, Any]:
    """The contract record of one metric (extra keys kept when the Metric offers them)."""
    rec = {"kind": "metric"}
    for key in METRIC_FIELDS:
        rec[key] = getattr(m, key, None)
    for extra in ("subject_type", "sentence"):
        if hasattr(m, extra):
            rec[extra] = getattr(m, extra)
    return rec


@dataclass
class Extraction:
    reports: list[Report]
    articles: list[Article]
    places: list[PlaceMention]
    metrics: list[Any] = field(default_factory=list)

    def places_frame(self):
        import pandas as pd
        cols = list(PlaceMention.__dataclass_fields__)
        return pd.DataFrame([asdict(p) for p in self.places], columns=cols)

    def metrics_frame(self):
        import pandas as pd
        rows = [metric_record(m) for m in self.metrics]
        for r in rows:
            r.pop("kind", None)
        if not rows:
            return pd.DataFrame(columns=[*METRIC_FIELDS, "subject_type", "sentence"])
        return pd.DataFrame(rows)

    def records(self) -> Iterator[dict[str, Any]]:
        """The jsonl contract of ``reportatlas extract``: places, then metrics, per report."""
        for report in self.reports:
            for p in self.places:
                if p.report == report.name:
                    yield p.to_record()
            for m in self.metrics:
                if getattr(m, "report", None) == report.name:
                    yield metric_record(m)


def default_known_names() -> list[KnownName]:
    """Known names from the committed gazetteer when available, else from the name list."""
    try:
        from . import gazetteer  # type: ignore[attr-defined]
        gaz = gazetteer.load()
        names = list(gaz.known_names())
        if names:
            return names
    except ImportError:
        pass
    except Exception as exc:  # a missing or unbuilt gazetteer file: fall back, but say so
        log.info("gazetteer not available (%s); using the 街道/社区/村 name list", exc)
    from .placenames import hierarchy_known_names
    return hierarchy_known_names()


def extract(paths_or_reports: Iterable[str | Path | Report] | str | Path, *,
            known_names: Iterable[KnownName] | None = None) -> Extraction:
    """Read the reports and extract their place mentions and metrics."""
    from .placenames import PlaceFinder

    if isinstance(paths_or_reports, (str, Path, Report)):
        paths_or_reports = [paths_or_reports]
    items = list(paths_or_reports)
    reports = [r for r in items if isinstance(r, Report)]
    files = [p for p in items if not isinstance(p, Report)]
    if files:
        reports += load_reports(files)
    if known_names is None:
        known_names = default_known_names()
    finder = PlaceFinder(known_names)
    all_articles: list[Article] = []
    all_places: list[PlaceMention] = []
    all_metrics: list[Any] = []
    # the results are many small objects without reference cycles: the cyclic garbage
    # collector would rescan all of them again and again (a quarter of the time at 8 MB)
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for report in reports:
            articles = split_articles(report)
            places = finder.find(report, articles)
            all_articles += articles
            all_places += places
            all_metrics += list(extract_metrics(report, articles, places))
    finally:
        if gc_was_enabled:
            gc.enable()
    return Extraction(reports=reports, articles=all_articles, places=all_places, metrics=all_metrics)
