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
import os
from itertools import starmap
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from .corpus import Article, Report, read_report, report_files, split_articles
from .errors import InputError

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


PARALLEL_MIN_BYTES = 1_000_000   # smaller inputs are read in one process (a pool costs ~0.1 s)


def extract(paths_or_reports: Iterable[str | Path | Report] | str | Path, *,
            known_names: Iterable[KnownName] | None = None, jobs: int | None = None) -> Extraction:
    """Read the reports and extract their place mentions and metrics.

    ``jobs`` is the number of processes: reports are independent, so several are read and
    extracted at once.  ``None`` uses every core available when there are several reports of
    at least ``PARALLEL_MIN_BYTES`` in all, one process otherwise.  The result is the same
    for any ``jobs`` (same records, same order)."""
    if isinstance(paths_or_reports, (str, Path, Report)):
        paths_or_reports = [paths_or_reports]
    items = list(paths_or_reports)
    # Report objects first, then the files of the paths (folders expanded, sorted)
    work: list[Report | Path] = [r for r in items if isinstance(r, Report)]
    files = [p for p in items if not isinstance(p, Report)]
    if files:
        work += report_files(files)
    if known_names is None:
        known_names = default_known_names()
    known_names = list(known_names)
    if jobs is None:
        jobs = _auto_jobs(work)
    if jobs < 1:
        raise InputError(f"jobs must be 1 or more, not {jobs}")
    jobs = min(jobs, len(work))
    if jobs <= 1:
        from .placenames import PlaceFinder
        results = _extract_items(work, PlaceFinder(known_names))
    else:
        results = _extract_parallel(work, known_names, jobs)
    out = Extraction(reports=[], articles=[], places=[], metrics=[])
    for report, articles, places, metrics in results:
        out.reports.append(report)
        out.articles += articles
        out.places += places
        out.metrics += metrics
    return out


def _auto_jobs(work: list[Report | Path]) -> int:
    if len(work) < 2:
        return 1
    size = 0
    for item in work:
        size += len(item.text) * 3 if isinstance(item, Report) else item.stat().st_size
    if size < PARALLEL_MIN_BYTES:
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cores = os.cpu_count() or 1
    return min(cores, len(work))


def _extract_items(work: list[Report | Path], finder) -> list[tuple]:
    """(report, articles, places, metrics) for each report or file of ``work``, in order."""
    out = []
    # the results are many small objects without reference cycles: the cyclic garbage
    # collector would rescan all of them again and again (a quarter of the time at 8 MB)
    gc_was_enabled = gc.isenabled()
    gc.disable()
    finder.autoflush = False        # the verb cuts go to disk once, below
    try:
        for item in work:
            report = item if isinstance(item, Report) else read_report(item)
            articles = split_articles(report)
            places = finder.find(report, articles)
            out.append((report, articles, places, list(extract_metrics(report, articles, places))))
    finally:
        finder.autoflush = True
        finder.flush_cuts()
        if gc_was_enabled:
            gc.enable()
    return out


_WORKER_FINDER = None


def _init_worker(known_names: list[KnownName]) -> None:
    global _WORKER_FINDER
    from .placenames import PlaceFinder
    _WORKER_FINDER = PlaceFinder(known_names)


def _fields(cls) -> "operator.attrgetter":
    import dataclasses
    import operator
    return operator.attrgetter(*(f.name for f in dataclasses.fields(cls)))


def _work_chunk(chunk: list[Report | Path]) -> list[tuple]:
    """``_extract_items`` in a worker; places and metrics go back as tuples of their fields
    (pickled ~4x faster than the objects) and are rebuilt by ``_rebuild``."""
    place_fields, metric_fields = _fields(PlaceMention), _fields(Metric)
    return [(report, articles, list(map(place_fields, places)), list(map(metric_fields, metrics)))
            for report, articles, places, metrics in _extract_items(chunk, _WORKER_FINDER)]


def _rebuild(item: tuple) -> tuple:
    report, articles, places, metrics = item
    return report, articles, list(starmap(PlaceMention, places)), list(starmap(Metric, metrics))


def _extract_parallel(work: list[Report | Path], known_names: list[KnownName], jobs: int) -> list[tuple]:
    """``_extract_items`` over ``jobs`` processes, a few chunks of files per process; the
    results come back in the order of ``work``, and the first error (in that order) is raised."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    per_chunk = max(1, len(work) // (jobs * 4))
    chunks = [work[i:i + per_chunk] for i in range(0, len(work), per_chunk)]
    # what comes back is many small acyclic objects: no cyclic GC passes over them meanwhile
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        with ProcessPoolExecutor(jobs, mp_context=context, initializer=_init_worker,
                                 initargs=(known_names,)) as pool:
            return [_rebuild(r) for part in pool.map(_work_chunk, chunks) for r in part]
    finally:
        if gc_was_enabled:
            gc.enable()
