"""Read-only SQL over an atlas with DuckDB and its spatial extension.

The atlas layers and tables are copied into an in-memory DuckDB database (``sites``,
``roads``, ``areas``, ``mentions``, ``metrics``, ``atlas_layers``, ``atlas_meta`` and every
user layer as ``user_<name>``; geometry in the column ``geom``, WGS-84).  Then file access
is switched off and the configuration locked, so a query can neither read nor write files.
Only one SELECT/WITH/EXPLAIN statement is accepted, as classified by DuckDB's own parser.
The spatial extension is loaded from the file shipped by the ``duckdb-extension-spatial``
package (``INSTALL spatial`` would need the network).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InputError, QueryError

_IDENT = re.compile(r"^[^\x00-\x1f\"]+$")


@dataclass
class SqlResult:
    columns: list[str]
    types: list[str]
    rows: list[tuple]

    def geometry_columns(self) -> list[int]:
        return [i for i, t in enumerate(self.types)
                if t.upper() == "GEOMETRY" or t.upper().startswith("GEOMETRY(")]

    def records(self, *, geometry_as: str = "wkt") -> list[dict[str, Any]]:
        """Rows as dicts; geometry values as WKT text (or shapely objects: ``"shapely"``)."""
        import shapely

        geo = set(self.geometry_columns())
        out = []
        for row in self.rows:
            rec = {}
            for i, (col, value) in enumerate(zip(self.columns, row)):
                if i in geo and isinstance(value, (bytes, bytearray, memoryview)):
                    geom = shapely.from_wkb(bytes(value))
                    value = geom if geometry_as == "shapely" else shapely.to_wkt(geom, rounding_precision=7)
                rec[col] = value
            out.append(rec)
        return out


def spatial_extension_path() -> Path:
    import duckdb

    try:
        import duckdb_extension_spatial
    except ImportError:
        raise QueryError("the DuckDB spatial extension is not installed: "
                         f"pip install duckdb-extension-spatial=={duckdb.__version__}") from None
    base = Path(duckdb_extension_spatial.__file__).parent / "extensions"
    path = base / f"v{duckdb.__version__}" / "spatial.duckdb_extension"
    if not path.is_file():
        found = sorted(p.parent.name for p in base.glob("*/spatial.duckdb_extension"))
        raise QueryError(f"no spatial extension for DuckDB {duckdb.__version__} (package has "
                         f"{', '.join(found) or 'none'}); install matching versions of duckdb and "
                         "duckdb-extension-spatial")
    return path


def check_read_only(statement: str) -> None:
    """Refuse anything but one SELECT/WITH/EXPLAIN statement (DuckDB's parser decides)."""
    import duckdb

    if not statement or not statement.strip():
        raise QueryError("empty SQL: give one SELECT statement")
    try:
        parsed = duckdb.extract_statements(statement)
    except duckdb.Error as exc:
        raise QueryError(f"SQL error: {_one_line(exc)}") from None
    if len(parsed) != 1:
        raise QueryError(f"give exactly one SQL statement, got {len(parsed)}")
    kind = parsed[0].type
    allowed = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}
    if kind not in allowed:
        name = getattr(kind, "name", str(kind))
        raise QueryError(f"only SELECT/WITH/EXPLAIN queries are allowed (the atlas is read-only); "
                         f"got a {name} statement")


def connect(atlas_path: str | Path):
    """An in-memory DuckDB connection holding a copy of the atlas, with file access off."""
    import duckdb
    import pyogrio

    atlas_path = Path(atlas_path)
    if not atlas_path.is_file():
        raise InputError(f"no atlas at {atlas_path}: run `reportatlas build` first or pass --atlas PATH")
    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(atlas_path)]
    except Exception as exc:
        raise InputError(f"{atlas_path} is not a GeoPackage atlas ({_one_line(exc)})") from None
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"LOAD '{_quote_literal(str(spatial_extension_path()))}'")
        for layer in layers:
            if not _IDENT.match(layer) or layer.startswith(("gpkg_", "rtree_", "sqlite_")):
                continue
            con.execute(f'CREATE TABLE "{layer}" AS SELECT * EXCLUDE (fid) FROM ST_Read(?, layer=?)'
                        if _has_fid(con, atlas_path, layer) else
                        f'CREATE TABLE "{layer}" AS SELECT * FROM ST_Read(?, layer=?)',
                        [str(atlas_path), layer])
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    except duckdb.Error as exc:
        con.close()
        raise QueryError(f"cannot open {atlas_path} in DuckDB: {_one_line(exc)}") from None
    return con


def _has_fid(con, atlas_path: Path, layer: str) -> bool:
    cols = con.execute("DESCRIBE SELECT * FROM ST_Read(?, layer=?)", [str(atlas_path), layer]).fetchall()
    return any(c[0] == "fid" for c in cols)


def run_sql(atlas_path: str | Path, statement: str, *, limit: int | None = None) -> SqlResult:
    """Run one read-only statement over the atlas; ``limit`` caps the rows fetched."""
    import duckdb

    check_read_only(statement)
    con = connect(atlas_path)
    try:
        cursor = con.execute(statement)
        columns = [d[0] for d in cursor.description]
        types = [str(d[1]) for d in cursor.description]
        rows = cursor.fetchmany(limit) if limit else cursor.fetchall()
    except duckdb.Error as exc:
        raise QueryError(f"SQL error: {_one_line(exc)}") from None
    finally:
        con.close()
    return SqlResult(columns, types, rows)


def _quote_literal(text: str) -> str:
    return text.replace("'", "''")


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text.split(" LINE 1:")[0] or type(exc).__name__
