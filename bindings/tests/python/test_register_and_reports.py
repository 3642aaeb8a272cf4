"""A register's day through the rest of the facade, from Python: open with a float, cash in and
out, quantities and a line discount with a manager's approval, a customer account sale, the
receipt as a PNG, a note cancelled with SEFAZ, the owner's sales report and the closing count, each
checked against what the core must have computed."""

import time
from fractions import Fraction

import pytest

import tenda
from conftest import run, MemoryVault, SimulatedLink

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def pos(stack, tmp_path_factory):
    """A third register of the store, online, with its certificate and a printer."""
    request = tenda.EnrollmentRequest(
        server_url=stack.info["server_url"],
        code=stack.new_code(),
        device_name="Caixa Python 3",
        expected_fingerprint=None,
        first_load_timeout_ms=60_000,
    )
    path = tmp_path_factory.mktemp("till3") / "caixa3.db"
    pos = run(tenda.enroll(stack.config(path, "caixa-3"), MemoryVault(), None, request, None))
    pos.install_certificate(
        bytes.fromhex(stack.info["certificate_pfx_hex"]),
        stack.info["certificate_password"],
        stack.approval("owner"),
    )
    pos.attach_printer(SimulatedLink(tenda.SimulatedPeripheral.printer()))
    yield pos
    run(pos.shutdown())


def product(stack, index):
    return stack.info["products"][index]


def test_a_register_day_with_movements_discounts_an_account_sale_and_the_closing(stack, pos):
    manager = stack.approval("manager")
    seller = stack.info["seller"]
    assert pos.signed_in() is None
    operator = pos.sign_in(seller["login"], tenda.Secret.PIN(seller["pin"]))
    assert pos.signed_in() == operator and operator.role == tenda.Role.SELLER
    assert pos.catalog_refreshed_at() is not None, "the first load refreshed the catalog"

    # The drawer: a float, change from the bank in, a deposit out (sellers need the manager).
    assert pos.register_session() is None
    pos.open_register(10_000, manager)
    assert pos.register_session().float == 10_000
    with pytest.raises(tenda.TendaError.Forbidden):
        pos.cash_in(5_000, "Troco do banco", None)
    pos.cash_in(5_000, "Troco do banco", manager)
    with pytest.raises(tenda.TendaError.LimitExceeded) as too_much:
        pos.cash_out(50_000, "Deposito", manager)
    assert too_much.value.limit == tenda.LimitKind.CASH_IN_DRAWER, "more than the drawer holds"
    pos.cash_out(3_000, "Deposito no banco", manager)
    register = pos.register_session()
    assert (register.cash_in, register.cash_out) == (5_000, 3_000)
    # The core does the drawer's arithmetic: 100,00 + 50,00 − 30,00, no sale yet.
    assert register.expected_cash == 12_000
    assert [t.kind for t in register.taken] == list(tenda.PaymentKind)

    # Three units of one product, then 10% off the line: over the seller's 5%, so approved.
    first = product(stack, 0)
    match = pos.find_by_code(first["code"])
    assert match.product.gtin == first["code"] and match.label_quantity is None
    pos.scan(first["code"], None)
    pos.set_quantity(0, 3_000)
    ticket = pos.ticket()
    assert ticket.lines[0].quantity_thousandths == 3_000
    assert ticket.gross == 3 * first["price_cents"]
    with pytest.raises(tenda.TendaError.Forbidden):
        pos.set_line_discount(0, tenda.Discount.PERCENT(1_000), None)
    assert pos.ticket().discount == 0, "a refused discount changes nothing"
    pos.set_line_discount(0, tenda.Discount.PERCENT(1_000), manager)
    ticket = pos.ticket()
    # Basis points of the line's gross, rounded half to even (Python's round on a Fraction).
    assert ticket.discount == round(Fraction(ticket.gross * 1_000, 10_000))
    assert ticket.total == ticket.gross - ticket.discount
    tendered = (ticket.total // 1_000 + 1) * 1_000
    cash_sale = run(pos.checkout([tenda.PaymentRequest.CASH(amount=ticket.total, tendered=tendered)]))
    assert cash_sale.change == tendered - ticket.total
    assert cash_sale.note.status == tenda.FiscalStatus.AUTHORIZED

    png = pos.receipt_png(cash_sale.sale_id)
    assert png.startswith(PNG_SIGNATURE) and len(png) > 1_000, "a rendered receipt image"

    # A customer account sale: the customer from the first load, their CPF on the note.
    customer = stack.info["customer"]
    found = pos.search_customers(customer["name"].split()[0], 10)
    assert customer["id"] in [c.id for c in found]
    second = product(stack, 1)
    pos.scan(second["code"], None)
    chosen = pos.set_customer(customer["id"])
    assert chosen.name == customer["name"] and chosen.overdraft_limit == customer["overdraft_limit_cents"]
    ticket = pos.ticket()
    assert ticket.customer_id == customer["id"] and ticket.consumer_tax_id == chosen.tax_id
    account_sale = run(pos.checkout([tenda.PaymentRequest.CUSTOMER_ACCOUNT(amount=ticket.total)]))
    assert account_sale.total == second["price_cents"]

    # A sale with an authorized note is not deleted; its note is cancelled with SEFAZ.
    with pytest.raises(tenda.TendaError.InvalidState):
        pos.cancel_unsynced_sale(account_sale.sale_id, "Cliente desistiu", True, manager)
    with pytest.raises(tenda.TendaError.Forbidden):
        run(pos.cancel_sale(account_sale.sale_id, "Cliente desistiu da compra", None))
    cancelled = run(pos.cancel_sale(account_sale.sale_id, "Cliente desistiu da compra", manager))
    assert cancelled.status_code == 135, "SEFAZ registered the cancellation event"
    assert cancelled.access_key == account_sale.note.access_key
    events = [e for e in pos.fiscal_events() if e.sale_id == account_sale.sale_id]
    assert [e.kind for e in events] == ["cancellation"]
    assert pos.sale_detail(account_sale.sale_id).row.voided

    # The sales report per day and method: the owner's (a manager is refused) and holds the
    # cash sale; the cancelled one no longer counts.
    owner = stack.approval("owner")
    now_ms = int(time.time() * 1000)
    day_ms = 24 * 3600 * 1000
    with pytest.raises(tenda.TendaError.Forbidden) as refused:
        pos.sales_report(now_ms - day_ms, now_ms + day_ms, manager)
    assert refused.value.permission == "view_reports"
    rows = pos.sales_report(now_ms - day_ms, now_ms + day_ms, owner)
    by_kind = {}
    for row in rows:
        by_kind[row.kind] = by_kind.get(row.kind, 0) + row.amount
    assert by_kind.get(tenda.PaymentKind.CASH) == cash_sale.total
    assert tenda.PaymentKind.CUSTOMER_ACCOUNT not in by_kind
    assert all(len(row.day) == 10 for row in rows), "days as YYYY-MM-DD"

    # Closing: the drawer should hold float + in − out + the cash sale; 1,00 is missing.
    expected_cash = 10_000 + 5_000 - 3_000 + cash_sale.total
    counted = [tenda.CountedAmount(kind=tenda.PaymentKind.CASH, amount=expected_cash - 100)]
    report = pos.close_register(counted, manager)
    cash_line = next(line for line in report.lines if line.kind == tenda.PaymentKind.CASH)
    assert (cash_line.expected, cash_line.counted, cash_line.difference) == (expected_cash, expected_cash - 100, -100)
    # Methods not counted are taken as expected: only the cash shortfall remains.
    assert report.sales_count == 2 and report.total_difference == -100
    assert pos.register_session() is None

    # The audit trail: consecutive entries, each chained by its SHA-256.
    entries = pos.audit_entries(0, 10_000)
    assert [e.seq for e in entries] == list(range(entries[0].seq, entries[0].seq + len(entries)))
    assert all(len(e.hash) == 64 for e in entries)
    report = pos.audit_report(tenda.AuditFilter(actor=None, action=None, _from=None, to=None, limit=5), owner)
    assert len(report.entries) == 5 and report.chain_intact
    newest = report.entries[-1]
    assert [e.seq for e in report.entries] == list(range(newest.seq - 4, newest.seq + 1)), "the newest five"
    assert newest.seq == entries[-1].seq + 1, f"the owner's approval of this report is audited too: {newest}"
