"""``reportatlas extract``: the places and metrics a set of reports mentions."""
from __future__ import annotations

import click

from ._common import echo_err, emit_jsonl, format_table

PLACE_COLUMNS = ("report", "article", "name", "place_type", "mention", "start", "end")
METRIC_COLUMNS = ("report", "article", "subject", "metric", "value", "unit", "raw", "qualifier",
                  "period", "start")
HEADERS = {"report": "报告", "article": "街道", "name": "地名", "place_type": "类型",
           "mention": "原文", "start": "起", "end": "止", "subject": "对象", "metric": "指标",
           "value": "数值", "unit": "单位", "raw": "原文", "qualifier": "修饰", "period": "时期"}


@click.command("extract")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(("table", "jsonl")), default="table", show_default=True,
              help="table: aligned columns for reading; jsonl: one JSON object per place or metric.")
@click.option("--only", type=click.Choice(("all", "places", "metrics")), default="all", show_default=True,
              help="Print only places or only metrics.")
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="Processes to read the reports with (default: every core for 1 MB or more of "
                   "several reports, else one). The output is the same for any number.")
def extract(paths: tuple[str, ...], fmt: str, only: str, jobs: int | None) -> None:
    """List the places and metrics the reports mention.

    PATHS are report files (.txt/.md, UTF-8 or GBK) or folders of them; by default the
    shared reports folder (../shared/reports, or $REPORTATLAS_REPORTS).  Every record keeps
    the report file name, the 街道 whose article it comes from and character offsets into
    the original file.

    \b
    Examples:
      reportatlas extract --format table
      reportatlas extract ../shared/reports/003_*.txt --format jsonl --only places
    """
    from .. import paths as _paths
    from ..extract import extract as run

    if not paths:
        paths = (str(_paths.default_reports_dir()),)
    result = run(list(paths), jobs=jobs)
    records = [r for r in result.records()
               if only == "all" or (r["kind"] == "place") == (only == "places")]
    if fmt == "jsonl":
        emit_jsonl(records)
        return
    places = [r for r in records if r["kind"] == "place"]
    metrics = [r for r in records if r["kind"] == "metric"]
    if only != "metrics":
        click.echo(f"地名 places: {len(places)}")
        click.echo(format_table(places, PLACE_COLUMNS, headers=HEADERS))
    if only != "places":
        if only == "all":
            click.echo("")
        click.echo(f"指标 metrics: {len(metrics)}")
        click.echo(format_table(metrics, METRIC_COLUMNS, headers=HEADERS))
    echo_err(f"{len(result.reports)} reports, {len(result.articles)} articles, "
             f"{len(places)} places, {len(metrics)} metrics")
