"""A small on-disk cache for things that are slow to make and fully determined by their inputs
(the parsed gazetteer, the self-contained map page).  It lives outside the repository and is
never the source of truth: every entry is keyed by a hash of everything it was made from,
written to a temporary name and renamed, and a missing, stale or broken entry only means
making the thing again.

``REPORTATLAS_CACHE_DIR`` chooses the folder (empty: no cache); the default is
``$XDG_CACHE_HOME/reportatlas`` or ``~/.cache/reportatlas``.
"""
from __future__ import annotations

import functools
import hashlib
import os
import tempfile
from pathlib import Path

#: how many entries of one kind (different inputs) are kept
KEEP = 4


def cache_dir() -> Path | None:
    configured = os.environ.get("REPORTATLAS_CACHE_DIR")
    if configured is not None:
        return Path(configured) if configured.strip() else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "reportatlas"


def key(*parts: bytes | str) -> str:
    """SHA-256 over the parts (each hashed on its own, so boundaries cannot shift)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(hashlib.sha256(part.encode("utf-8") if isinstance(part, str) else part).digest())
    return digest.hexdigest()


def path_for(kind: str, digest: str, suffix: str) -> Path | None:
    folder = cache_dir()
    return folder / f"{kind}-{digest[:32]}{suffix}" if folder is not None else None


def read(path: Path | None) -> bytes | None:
    """The entry's bytes, or None when there is none (and mark it recently used)."""
    if path is None:
        return None
    try:
        data = path.read_bytes()
    except OSError:
        return None
    try:
        os.utime(path)
    except OSError:  # a read-only cache is still a cache
        pass
    return data


def write(path: Path | None, data: bytes, *, keep: int = KEEP) -> None:
    """Store ``data`` atomically; keep the ``keep`` most recently used entries of its kind.
    Failures (a read-only home, a full disk) are ignored: the cache is an optimisation."""
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        kind = path.name.rsplit("-", 1)[0]
        entries = sorted(path.parent.glob(f"{kind}-*{path.suffix}"), key=_mtime, reverse=True)
        for old in entries[keep:]:
            old.unlink(missing_ok=True)
    except OSError:
        pass


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


@functools.lru_cache(maxsize=8)
def transformer(src: str, dst: str):
    """``pyproj.Transformer.from_crs(src, dst, always_xy=True)``.  Choosing the operation
    searches PROJ's database (~0.2 s); the operation PROJ chose is cached as PROJJSON (keyed
    by the pyproj and PROJ versions) and rebuilt with ``Transformer.from_pipeline`` (~2 ms),
    which gives the same transformation."""
    import pyproj
    from pyproj import Transformer

    cache_file = path_for("transformer", key("transformer 1", pyproj.__version__, pyproj.proj_version_str,
                                             src, dst), ".json")
    data = read(cache_file)
    if data is not None:
        try:
            return Transformer.from_pipeline(data.decode("utf-8"))
        except Exception:  # a broken cache file: ask PROJ again
            pass
    made = Transformer.from_crs(src, dst, always_xy=True)
    write(cache_file, made.to_json().encode("utf-8"), keep=16)
    return made
