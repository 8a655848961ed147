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


PARALLEL_MIN_BYTES = 1_000_000   # smaller inputs are read in one process (starting a worker costs ~0.02 s)


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


_WORKER_FINDER = None     # the finder a forked worker inherits from the parent


def _fields(cls):
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


def _chunks(work: list[Report | Path], count: int) -> list[list[Report | Path]]:
    """``work`` cut, in order, into about ``count`` runs of about the same size in bytes."""
    sizes = [len(w.text) * 3 if isinstance(w, Report) else w.stat().st_size for w in work]
    target = max(1, sum(sizes) // max(1, count))
    out: list[list[Report | Path]] = [[]]
    filled = 0
    for item, size in zip(work, sizes):
        if out[-1] and filled + size > target:
            out.append([])
            filled = 0
        out[-1].append(item)
        filled += size
    return out


def _extract_parallel(work: list[Report | Path], known_names: list[KnownName], jobs: int) -> list[tuple]:
    """``_extract_items`` in this process and ``jobs - 1`` forked workers.

    The work is cut into small chunks, claimed through two shared counters: this process
    takes chunks from the front and extracts them itself (nothing to send back), the
    workers take them from the back, until the two ends meet.  No worker waits for this
    process to hand it work; each sends its results down a pipe that a thread here reads
    meanwhile.  The results come back in the order of ``work``, and the first error (in
    that order) is raised.  Without ``fork`` (not on Linux) everything runs here."""
    import multiprocessing
    import threading

    from .placenames import PlaceFinder

    global _WORKER_FINDER
    finder = _WORKER_FINDER = PlaceFinder(known_names)   # built once; the workers fork with it
    if "fork" not in multiprocessing.get_all_start_methods():   # pragma: no cover - not Linux
        return _extract_items(work, finder)
    context = multiprocessing.get_context("fork")
    chunks = _chunks(work, jobs * 16)
    outcome: list[tuple[bool, Any]] = [(False, None)] * len(chunks)   # (ok, results or error)
    ends = context.RawArray("q", [0, len(chunks)])   # next from the front, one past next from the back
    lock = context.Lock()
    # a worker's puts go through its own feeder thread: it never waits for this process to read
    queue = context.Queue()
    _widen_pipe(queue)
    # what comes back is many small acyclic objects: no cyclic GC passes over them meanwhile
    gc_was_enabled = gc.isenabled()
    gc.disable()
    workers = [context.Process(target=_drain, args=(chunks, ends, lock, queue), daemon=True)
               for _ in range(jobs - 1)]
    try:
        for w in workers:
            w.start()
        reader = threading.Thread(target=_collect, args=(queue, workers, outcome), daemon=True)
        reader.start()
        while True:
            with lock:
                i = ends[0]
                if i >= ends[1]:
                    break
                ends[0] = i + 1
            try:
                outcome[i] = (True, _extract_items(chunks[i], finder))
            except Exception as exc:
                outcome[i] = (False, exc)
                with lock:
                    ends[1] = ends[0]   # the workers' chunks all come later in the order: stop
                break
        reader.join()
    finally:
        for w in workers:
            if w.is_alive():
                w.terminate()
            w.join()
        if gc_was_enabled:
            gc.enable()
    results: list[tuple] = []
    for ok, value in outcome:
        if not ok:
            if value is None:
                codes = ", ".join(str(w.exitcode) for w in workers)
                raise RuntimeError(f"an extraction worker process ended without its results (exit codes {codes})")
            raise value
        results += value
    return results


def _drain(chunks: list[list[Report | Path]], ends, lock, queue) -> None:
    """A worker: claims chunks from the back until the two ends meet, and sends
    ``(index, ok, results or error)`` for each, then ``None``."""
    try:
        while True:
            with lock:
                i = ends[1] - 1
                if i < ends[0]:
                    break
                ends[1] = i
            try:
                item = (i, True, _work_chunk(chunks[i]))
            except Exception as exc:
                item = (i, False, _sendable(exc))
            queue.put(item)
    finally:
        queue.put(None)


def _widen_pipe(queue) -> None:
    """Let the queue's pipe hold a whole chunk's results (Linux allows up to 1 MB without
    privileges): each read then takes the data of a chunk at once, instead of 64 KB at a time
    with a wait for this process's main thread in between."""
    import fcntl
    try:
        fcntl.fcntl(queue._writer.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (OSError, AttributeError, ValueError):
        pass


def _sendable(exc: Exception) -> Exception:
    """``exc``, or a RuntimeError with its message when it cannot be pickled."""
    import pickle
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")


def _collect(queue, workers: list, outcome: list) -> None:
    """The parent's reader: every worker's results into ``outcome`` until each has said it is
    done (or has died: its chunks then stay without an outcome)."""
    from queue import Empty

    running = len(workers)
    while running:
        try:
            item = queue.get(timeout=0.5)
        except Empty:     # notice a worker that died without saying it was done
            if not any(w.is_alive() for w in workers) and queue.empty():
                return
            continue
        if item is None:
            running -= 1
            continue
        i, ok, value = item
        outcome[i] = (True, [_rebuild(r) for r in value]) if ok else (False, value)
