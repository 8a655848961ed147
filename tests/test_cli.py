import subprocess
import sys

from reportatlas import __version__
from reportatlas.cli import main
from reportatlas.cli._common import display_width, format_table


def test_version(capsys):
    assert main(["--version"]) == 0
    assert __version__ in capsys.readouterr().out


def test_help_lists_subcommands(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "reports" in out


def test_unknown_subcommand_is_one_line_no_traceback():
    proc = subprocess.run([sys.executable, "-m", "reportatlas", "no-such-command"],
                          capture_output=True, text=True)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_table_aligns_chinese_columns():
    rows = [{"name": "煤机路", "n": 3}, {"name": "CCD北部片区", "n": 12}]
    lines = format_table(rows).splitlines()
    # every data line has the number ending at the same display column
    ends = {display_width(line) for line in lines[2:]}
    assert len(ends) == 1
    assert display_width("煤机路") == 6


def test_table_writes_large_whole_numbers_in_full():
    table = format_table([{"metric": "总投资", "value": 5e9}, {"metric": "占地", "value": 81533.4}])
    assert "5,000,000,000" in table and "e+" not in table
