"""``stockyard backtest`` against backtesting.py on the same CSV, whole processes, side by side.

    python benchmarks/vs_backtesting_py.py [--bars 500000] [--runs 3] [--stockyard CMD]

Run it with the Python of the venv that has stockyard (``.venv/bin/python``). It

1. writes ``benchmarks/data/bars_<N>.csv`` (``make_bars.py``: seeded, one-minute bars) once;
2. makes ``benchmarks/.venv`` with backtesting.py in it, once (backtesting.py is AGPL: it
   lives only there, a benchmark-only dependency; ``stockyard`` never imports it);
3. runs, ``--runs`` times each and alternating, ``stockyard backtest --data FILE.csv
   --strategy sma_cross`` (fast 10, slow 30, 100 shares, market orders filled at the next
   bar's open, no fees, a fresh ``STOCKYARD_HOME``) and ``peer_backtesting_py.py`` on the
   same file, each as its own process from start to exit;
4. prints each run's wall time and peak memory (the process's maximum resident set, from
   ``wait4``), both tools' trade counts and final equity, and whether every trade (entry
   and exit time and price) is the same.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PEER_VERSION = "0.6.6"


def peer_python() -> Path:
    """``benchmarks/.venv``'s Python, made with backtesting.py in it when missing."""
    venv = HERE / ".venv"
    python = venv / "bin" / "python"
    if not (venv / ".installed").exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        pip = [str(python), "-m", "pip", "install", "--quiet"]
        subprocess.run([*pip, f"backtesting=={PEER_VERSION}"], check=True)
        (venv / ".installed").touch()
    return python


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run ``command`` to its end: (wall seconds, peak resident MB, stdout)."""
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {process.returncode}")
    return wall, usage.ru_maxrss / 1024, text  # ru_maxrss is in KiB on Linux


def stockyard_run(command: list[str], csv: Path) -> tuple[float, float, dict[str, Any]]:
    home = tempfile.mkdtemp(prefix="stockyard-bench-")
    try:
        args = [
            *command, "backtest", "--data", str(csv), "--strategy", "sma_cross",
            "--param", "fast=10", "--param", "slow=30", "--param", "qty=100",
            "--fees", "zero", "--slippage", "none", "--cash", "100000", "--json",
        ]  # fmt: skip
        wall, peak, text = timed(args, {**os.environ, "STOCKYARD_HOME": home})
    finally:
        shutil.rmtree(home, ignore_errors=True)
    shown = json.loads(text)
    trades = [
        [t["entry_time"], t["entry_price"], t["exit_time"], t["exit_price"], int(t["qty"])]
        for t in shown["trades"]
    ]
    return wall, peak, {"final_equity": shown["metrics"]["final_equity"], "trades": trades}


def peer_run(python: Path, csv: Path) -> tuple[float, float, dict[str, Any]]:
    wall, peak, text = timed([str(python), str(HERE / "peer_backtesting_py.py"), str(csv)],
                             dict(os.environ, PYTHONPATH=""))  # fmt: skip
    return wall, peak, json.loads(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--stockyard",
        default=None,
        help="the command that runs stockyard (default: this Python's `-m stockyard`)",
    )
    args = parser.parse_args()
    command = args.stockyard.split() if args.stockyard else [sys.executable, "-m", "stockyard"]
    csv = HERE / "data" / f"bars_{args.bars}.csv"
    if not csv.exists():
        # in a process of its own: a child's peak memory (``wait4``) starts from this
        # process's size when it was forked, so this one stays small
        csv.parent.mkdir(exist_ok=True)
        subprocess.run(
            [sys.executable, str(HERE / "make_bars.py"), str(csv), "--bars", str(args.bars)],
            check=True,
        )
    python = peer_python()
    ours: list[tuple[float, float]] = []
    theirs: list[tuple[float, float]] = []
    for run in range(args.runs):
        wall, peak, mine = stockyard_run(command, csv)
        ours.append((wall, peak))
        print(f"run {run + 1}: stockyard      {wall:6.2f} s {peak:7.1f} MB", flush=True)
        wall, peak, peer = peer_run(python, csv)
        theirs.append((wall, peak))
        print(f"run {run + 1}: backtesting.py {wall:6.2f} s {peak:7.1f} MB", flush=True)
    best_ours, best_theirs = min(w for w, _ in ours), min(w for w, _ in theirs)
    summary = {
        "bars": args.bars,
        "stockyard_wall_s": [round(w, 2) for w, _ in ours],
        "stockyard_peak_mb": [round(p, 1) for _, p in ours],
        "backtesting_py_wall_s": [round(w, 2) for w, _ in theirs],
        "backtesting_py_peak_mb": [round(p, 1) for _, p in theirs],
        "speedup_best": round(best_theirs / best_ours, 2),
        "stockyard_trades": len(mine["trades"]),
        "backtesting_py_trades": len(peer["trades"]),
        "same_trades": mine["trades"] == peer["trades"],
        "stockyard_final_equity": round(mine["final_equity"], 2),
        "backtesting_py_final_equity": round(peer["final_equity"], 2),
        "same_final_equity": round(mine["final_equity"], 2) == round(peer["final_equity"], 2),
    }
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
