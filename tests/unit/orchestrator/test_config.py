"""The supervisord configuration written from the table."""

from __future__ import annotations

import configparser
import sys
from pathlib import Path

from stockyard.orchestrator import (
    ProcessSpec,
    ProcessTable,
    RunPaths,
    render_supervisord_config,
)


def _parse(text: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser()
    parser.read_string(text)
    return parser


def test_every_process_gets_a_program_that_stops_and_kills_its_whole_group(tmp_path: Path) -> None:
    specs = {
        "a": ProcessSpec("a", "custom", sys.executable, ("-c", "print('100%')"), env={"X": '"q"'}),
        "b": ProcessSpec("b", "custom", "sleep", ("9",), depends_on=("a",), autorestart="always"),
    }
    paths = RunPaths.of(tmp_path, tmp_path / "logs")
    parsed = _parse(render_supervisord_config(ProcessTable(specs), paths))
    assert parsed["unix_http_server"]["file"] == str(tmp_path / "run" / "supervisor.sock")
    assert parsed["supervisord"]["nodaemon"] == "true"
    a, b = parsed["program:a"], parsed["program:b"]
    for program in (a, b):
        assert program["stopasgroup"] == program["killasgroup"] == "true"
        assert program["autostart"] == "false"
    assert a["command"].endswith("-c 'print('\"'\"'100%%'\"'\"')'")  # % doubled for supervisord
    assert 'X="\\"q\\""' in a["environment"]
    assert b["autorestart"] == "true"
    assert (int(a["priority"]), int(b["priority"])) == (100, 200)
    assert b["stdout_logfile"] == str(tmp_path / "logs" / "processes" / "b.log")


def test_a_fractional_start_time_rounds_up_to_whole_seconds(tmp_path: Path) -> None:
    specs = {"a": ProcessSpec("a", "custom", "x", startsecs=0.2, stopwaitsecs=2.5)}
    text = render_supervisord_config(ProcessTable(specs), RunPaths.of(tmp_path, tmp_path))
    program = _parse(text)["program:a"]
    assert (program["startsecs"], program["stopwaitsecs"]) == ("1", "3")
