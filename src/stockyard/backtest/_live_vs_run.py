"""Live vs backtest of a stored session: read it from the store, backtest its strategies over
its period on the same bars, and compare the two trade by trade.

The session's **period** runs from its first equity snapshot (the node writes one as it
starts) to its last (written as it stops); ``started_at``/``stopped_at`` widen it for paper
and live runs, whose clock is the wall clock (a sandbox run keeps the sandbox's replay time
in its snapshots, intents and fills, not in ``started_at``). Its first intent or fill
widens it too. The backtest runs on the bars the session heard: those that closed after the
period's start and no later than its end. Both sides' P&L is their own executions' cash
flows and fees, with what each still holds marked at the last close of the period, so a
position carried in from an earlier run does not count on either side.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import numpy as np

from stockyard.backtest._engine import BacktestConfig
from stockyard.backtest._engine_data import BarData
from stockyard.backtest._engine_run import backtest
from stockyard.backtest._live_vs import (
    Execution,
    TradeMatch,
    executions_from_fills,
    executions_from_orders,
    match_executions,
    symbol_pnl,
)
from stockyard.backtest._results import Results, iso_from_ns
from stockyard.core import Fill, to_ns
from stockyard.store import (
    Database,
    EquitySnapshot,
    RunMode,
    RunRecord,
    SqlRunStore,
    SqlSnapshotStore,
    UnknownRunError,
)
from stockyard.strategy import Strategy, create_strategy

__all__ = [
    "LiveSession",
    "LiveVsBacktest",
    "live_vs_backtest",
    "load_session",
    "session_strategies",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveSession:
    """A stored paper, live or sandbox session: its record, fills, equity snapshots, the
    number of intents it recorded, and its period (see the module docstring)."""

    run: RunRecord
    fills: tuple[Fill, ...]
    equity: tuple[EquitySnapshot, ...]
    intents: int
    start: datetime
    end: datetime

    @property
    def symbols(self) -> tuple[str, ...]:
        """Every symbol the session's strategies traded or watched."""
        named = {s for spec in self.run.specs for s in spec.symbols}
        return tuple(sorted(named | set(self.run.symbols) | {f.symbol for f in self.fills}))

    @property
    def starting_equity(self) -> Decimal | None:
        """The equity of the first snapshot, if any."""
        return self.equity[0].equity if self.equity else None


def load_session(
    database: Database,
    run_id: str,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
) -> LiveSession:
    """The session ``run_id`` from the store; ``start``/``end`` replace its period's ends.
    ``UnknownRunError`` when there is no such run; ValueError when no period can be told."""
    runs = SqlRunStore(database)
    run = runs.run(run_id)
    if run is None:
        raise UnknownRunError(
            f"no run {run_id!r} in the state database", context={"run_id": run_id}
        )
    fills = tuple(runs.fills(run_id))
    intents = runs.intents(run_id)
    equity = tuple(SqlSnapshotStore(database).equity_curve(run_id))
    moments = [s.timestamp for s in equity]
    moments += [f.timestamp for f in fills] + [i.created_at for i, _ in intents]
    if run.mode is not RunMode.SANDBOX:
        moments.append(run.started_at)
        if run.stopped_at is not None:
            moments.append(run.stopped_at)
    if (start is None or end is None) and not moments:
        raise ValueError(f"run {run_id} recorded nothing to tell its period by; give start and end")
    first = start if start is not None else min(moments)
    last = end if end is not None else max(moments)
    if last <= first:
        raise ValueError(f"run {run_id}: the period's end {last} is not after its start {first}")
    return LiveSession(
        run=run, fills=fills, equity=equity, intents=len(intents), start=first, end=last
    )


def session_strategies(session: LiveSession) -> list[Strategy]:
    """The session's strategies made again from the specs its run recorded."""
    run = session.run
    if not run.specs:
        raise ValueError(
            f"run {run.id} did not record how its strategies were made (a run from before "
            "strategy specs were stored); name the strategy and its parameters instead"
        )
    return [
        create_strategy(
            spec.reference, symbols=spec.symbols, strategy_id=spec.strategy_id, params=spec.params
        )
        for spec in run.specs
    ]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class LiveVsBacktest:
    """The divergence of a session from its backtest: the match, each side's executions and
    P&L per symbol (marked at ``marks``, the period's last closes), the backtest's results
    and the live equity curve (UTC ns, equity)."""

    session: LiveSession
    tolerance_ns: int
    match: TradeMatch
    live: tuple[Execution, ...]
    backtest: tuple[Execution, ...]
    live_pnl: dict[str, float]
    backtest_pnl: dict[str, float]
    marks: dict[str, float]
    results: Results
    live_times: np.ndarray
    live_equity: np.ndarray

    @property
    def pnl_gap(self) -> dict[str, float]:
        """Live − backtest P&L per symbol (a symbol one side never traded counts 0 there)."""
        names = sorted(set(self.live_pnl) | set(self.backtest_pnl))
        return {s: self.live_pnl.get(s, 0.0) - self.backtest_pnl.get(s, 0.0) for s in names}

    def summary(self) -> dict[str, object]:
        """Counts, slippage and P&L totals."""
        matched = self.match.matched
        bps = [m.slippage_bps for m in matched]
        live_total = sum(self.live_pnl.values())
        test_total = sum(self.backtest_pnl.values())
        return {
            "live_executions": len(self.live),
            "backtest_executions": len(self.backtest),
            "matched": len(matched),
            "missed": len(self.match.missed),
            "extra": len(self.match.extra),
            "match_rate": len(matched) / len(self.backtest) if self.backtest else None,
            "mean_slippage_bps": sum(bps) / len(bps) if bps else None,
            "slippage_cost": sum(m.slippage_cost for m in matched),
            "live_pnl": live_total,
            "backtest_pnl": test_total,
            "pnl_gap": live_total - test_total,
        }

    def to_dict(self) -> dict[str, object]:
        """The whole comparison as JSON-ready values."""
        run = self.session.run
        return {
            "run": {
                "id": run.id,
                "mode": run.mode.value,
                "strategies": [s.to_json() for s in run.specs] or list(run.strategies),
                "symbols": list(self.session.symbols),
                "start": self.session.start.isoformat(),
                "end": self.session.end.isoformat(),
                "intents": self.session.intents,
                "fills": len(self.session.fills),
            },
            "tolerance_s": self.tolerance_ns / 1e9,
            "backtest_bars": int(self.results.meta.get("bars") or 0),
            "summary": self.summary(),
            "pnl": {
                s: {
                    "live": self.live_pnl.get(s, 0.0),
                    "backtest": self.backtest_pnl.get(s, 0.0),
                    "gap": gap,
                    "mark": self.marks.get(s),
                }
                for s, gap in self.pnl_gap.items()
            },
            "matched": [m.to_dict() for m in self.match.matched],
            "missed": [e.to_dict() for e in self.match.missed],
            "extra": [e.to_dict() for e in self.match.extra],
            "live_equity": [
                {"time": iso_from_ns(int(t)), "equity": float(v)}
                for t, v in zip(self.live_times, self.live_equity, strict=True)
            ],
        }


def live_vs_backtest(
    session: LiveSession,
    data: BarData,
    *,
    strategies: Sequence[Strategy] | None = None,
    config: BacktestConfig | None = None,
    tolerance: timedelta | None = None,
) -> LiveVsBacktest:
    """Backtest the session's strategies (default: made from its specs) on the bars of
    ``data`` it heard, then match the two sides' executions within ``tolerance`` (default:
    one bar). ``config`` defaults to the session's starting equity and the NYSE calendar
    (the node's); ValueError when ``data`` holds no bar of the period."""
    bots = list(strategies) if strategies is not None else session_strategies(session)
    start_ns, end_ns = to_ns(session.start), to_ns(session.end)
    span = data.span_ns
    heard = data.between(start_ns - span + 1, end_ns - span + 1)
    if not heard.symbols:
        raise ValueError(
            f"no bars between {session.start:%Y-%m-%d %H:%M} and {session.end:%Y-%m-%d %H:%M} "
            "for the session's symbols"
        )
    if config is None:
        cash = session.starting_equity
        config = BacktestConfig(
            cash=cash if cash and cash > 0 else Decimal(100_000), calendar="nyse"
        )
    results = backtest(heard, bots, config, meta={"live_run": session.run.id})
    tolerance_ns = span if tolerance is None else int(tolerance.total_seconds() * 1e9)
    live = executions_from_fills(session.fills)
    tested = executions_from_orders(results.orders)
    marks = {s.symbol: float(s.close[-1]) for s in heard.symbols}
    times = np.array([to_ns(s.timestamp) for s in session.equity], dtype=np.int64)
    values = np.array([float(s.equity) for s in session.equity], dtype=np.float64)
    return LiveVsBacktest(
        session=session,
        tolerance_ns=tolerance_ns,
        match=match_executions(live, tested, tolerance_ns=tolerance_ns),
        live=tuple(live),
        backtest=tuple(tested),
        live_pnl=symbol_pnl(live, marks),
        backtest_pnl=symbol_pnl(tested, marks),
        marks=marks,
        results=results,
        live_times=times,
        live_equity=values,
    )
