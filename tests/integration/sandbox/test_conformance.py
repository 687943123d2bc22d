"""Every in-scope operation of Alpaca's published specifications, called on a running
sandbox, answers and validates against the schema for its status."""

from __future__ import annotations

from stockyard.sandbox.conformance import main, run_conformance


def test_every_in_scope_operation_is_served_and_conforms_to_alpacas_schemas() -> None:
    report = run_conformance()
    figures = report.figures()
    failing = {
        op.operation_id: [(c.url, c.status, c.errors[:2]) for c in report.calls
                          if c.operation_id == op.operation_id]
        for op in report.operations
        if not report.conforming(op)
    }  # fmt: skip
    assert failing == {}
    assert figures["served"] == figures["conforming"] == figures["in_scope"] == 66


def test_the_command_prints_the_figures_and_exits_zero(capsys: object) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert out.startswith("served 66 / conforming 66 / in scope 66")
