"""The Unleashed benchmark, small: its scenario (redelivery, lost answers, late deliveries, stock
changes in Unleashed) keeps every invariant it prints, so `make bench` measures a working run."""

from __future__ import annotations

from bench.unleashed import run


def test_a_small_unleashed_run_sends_each_order_once_and_ends_equal_to_unleashed() -> None:
    result = run(24, seed=7, skus=30, rounds=2, lose=0.2, late=0.2)
    assert result.ok, result
    assert result.sales_orders == 24 and result.duplicates == 0 and result.oversold == 0
    assert result.answers_lost and result.late and result.redelivered
    assert result.stock_calls == result.polls  # 30 SKUs a poll: one page each
