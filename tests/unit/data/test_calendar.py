"""The NYSE session table: built once a day from exchange_calendars, then read back from the
cache file by the next process without exchange_calendars or pandas (start-up time)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

_PROBE = """
import json, sys
from stockyard.data import nyse_sessions
s = nyse_sessions()
print(json.dumps({
    "loaded": [m for m in ("exchange_calendars", "pandas") if m in sys.modules],
    "sessions": len(s.day),
    "sums": [int(s.day.sum()), int(s.open.sum()), int(s.close.sum()), int(s.offset.sum())],
    "dtypes": [str(a.dtype) for a in (s.day, s.open, s.close, s.offset)],
}))
"""


def _run(cache: Path) -> dict[str, object]:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env=env,
    )
    found: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def test_the_next_process_reads_the_same_table_from_the_cache_without_the_calendar_library(
    tmp_path: Path,
) -> None:
    built = _run(tmp_path)
    assert built["loaded"] == ["exchange_calendars", "pandas"]  # the first one builds it
    assert list((tmp_path / "stockyard").glob("xnys-sessions-*.npz"))
    read = _run(tmp_path)
    assert read["loaded"] == []
    assert read["sessions"] == built["sessions"]
    assert read["sums"] == built["sums"]
    assert read["dtypes"] == built["dtypes"] == ["int64"] * 4


def test_an_unreadable_cache_file_is_built_again(tmp_path: Path) -> None:
    built = _run(tmp_path)
    (path,) = (tmp_path / "stockyard").glob("xnys-sessions-*.npz")
    path.write_bytes(b"not a table")
    again = _run(tmp_path)
    assert again["loaded"] == ["exchange_calendars", "pandas"]
    assert again["sums"] == built["sums"]
    assert _run(tmp_path)["loaded"] == []
