"""The screen figures the core computes once for every shell, called from Python: typed amounts
to centavos and back to text, what is left to pay and the change, countdown seconds and the
contingency justification's bounds (the ones `enter_contingency` enforces)."""

import pytest

import tenda


def test_typed_amounts_become_centavos_and_typos_none():
    assert tenda.parse_typed_amount("1.234,56") == 123_456
    assert tenda.parse_typed_amount("R$ 12,5") == 1_250
    assert tenda.parse_typed_amount("12.50") == 1_250
    for typo in ("", "12,345", "1.23.4", "-5", "doze"):
        assert tenda.parse_typed_amount(typo) is None, typo
    assert tenda.format_brl(123_456_789) == "R$ 1.234.567,89"
    assert tenda.format_brl(-5) == "-R$ 0,05"


def test_remaining_and_change_as_payments_are_entered():
    due = tenda.payment_due(5_000, [3_000], 2_500)
    assert (due.remaining, due.change) == (2_000, 500)
    assert tenda.payment_due(5_000, [3_000], 1_000).change is None, "1,00 does not cover 20,00"
    with pytest.raises(tenda.TendaError.InvalidInput):
        tenda.payment_due(1, [2**63 - 1, 1], None)


def test_countdown_seconds_round_up_and_stop_at_zero():
    now = 1_765_000_000_000
    assert tenda.seconds_left(now, now + 299_001) == 300
    assert tenda.seconds_left(now, now - 1) == 0


def test_the_justification_bounds_shown_are_those_enforced():
    bounds = tenda.contingency_justification_bounds()
    assert (bounds.min_chars, bounds.max_chars) == (15, 256)
