"""A day at the counter driven from Python through the generated bindings, against a real
tenda-server and the SEFAZ simulator: enroll with a one-time code, first load with progress,
sign in with a PIN, scan, pay cash and card (the reader reached through the host's link), lose
the link, contingency with the manager's PIN and a justification, sell offline, restore the link:
every note authorized and every sale on the server exactly once."""

import time

import pytest

import tenda
from conftest import run, MemoryVault, SimulatedLink, StatusRecorder


def wait_until(condition, timeout=30):
    """Polls a core query the test has no event for (a server-side count)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    assert condition(), f"not true after {timeout} s"


@pytest.fixture(scope="module")
def register(stack, tmp_path_factory):
    """An enrolled register with its certificate, printer and card reader."""
    progress = StatusRecorder()
    request = tenda.EnrollmentRequest(
        server_url=stack.info["server_url"],
        code=stack.info["enrollment_code"],
        device_name="Caixa Python",
        expected_fingerprint=None,
        first_load_timeout_ms=60_000,
    )
    config = stack.config(tmp_path_factory.mktemp("till") / "caixa.db", "caixa-python")
    pos = run(tenda.enroll(config, MemoryVault(), None, request, progress))
    pos.install_certificate(
        bytes.fromhex(stack.info["certificate_pfx_hex"]),
        stack.info["certificate_password"],
        stack.approval("owner"),
    )
    printer = tenda.SimulatedPeripheral.printer()
    reader = tenda.SimulatedPeripheral.card_reader()
    pos.attach_printer(SimulatedLink(printer))
    pos.pair_card_reader(SimulatedLink(reader))
    yield {"pos": pos, "progress": progress, "printer": printer, "reader": reader, "sales": []}
    run(pos.shutdown())


def sell(register, payments):
    """Checks out the ticket and remembers the sale, for the end-of-day checks."""
    sale = run(register["pos"].checkout(list(payments)))
    register["sales"].append(sale)
    return sale


def product_codes(stack):
    return [p["code"] for p in stack.info["products"]]


def price(stack, code):
    return next(p["price_cents"] for p in stack.info["products"] if p["code"] == code)


def test_enrollment_loaded_the_store_with_progress(stack, register):
    pos, progress = register["pos"], register["progress"]
    # The first load reports its progress against a known total (the catalog and the people).
    pulls = [s.pull for s in progress.seen if s.pull is not None and s.pull.total]
    assert pulls, "the first load reported progress"
    assert pulls[-1].total >= stack.info["catalog_size"]
    assert pos.status().initial_load_complete
    info = pos.enrollment()
    assert info is not None and info.nfce_series == 1
    # The catalog is on the device: a search finds a product by name.
    first = stack.info["products"][0]
    found = pos.search_products(first["name"].split()[0], 5)
    assert any(p.gtin == first["code"] for p in found)


def test_online_cash_and_card_sales_are_authorized_and_printed(stack, register):
    pos, printer, reader = register["pos"], register["printer"], register["reader"]
    pos.sign_in(stack.info["seller"]["login"], tenda.Secret.PIN(stack.info["seller"]["pin"]))
    pos.open_register(15_000, stack.approval("manager"))
    a, b = product_codes(stack)[:2]
    pos.scan(a, None)
    ticket = pos.scan_and_view(b)
    assert ticket.total == price(stack, a) + price(stack, b), "integer centavos, summed exactly"

    cash = sell(register, [tenda.PaymentRequest.CASH(amount=ticket.total, tendered=ticket.total + 1_000)])
    assert cash.change == 1_000
    assert cash.note.status == tenda.FiscalStatus.AUTHORIZED and not cash.note.contingency
    assert cash.printed, cash.print_error

    total = pos.scan_and_view(a).total
    card = sell(register, [tenda.PaymentRequest.CARD(amount=total, kind=tenda.CardKind.DEBIT)])
    assert card.note.status == tenda.FiscalStatus.AUTHORIZED
    assert reader.charges() == 1, "the charge went through the host's link to the reader"
    assert printer.receipts_printed() == 2


def test_offline_contingency_then_every_note_and_sale_reaches_its_place(stack, register):
    pos = register["pos"]
    watcher = StatusRecorder()
    subscription = pos.subscribe(watcher)
    a, b, c = product_codes(stack)[:3]

    stack.cut()
    pos.sync_now()
    watcher.wait_for(lambda s: s.link == tenda.LinkState.OFFLINE)

    # PIX needs the bank while the customer waits: refused offline, with its code.
    total = pos.scan_and_view(c).total
    with pytest.raises(tenda.TendaError.Offline) as pix:
        run(pos.checkout([tenda.PaymentRequest.PIX(amount=total, txid=None)]))
    assert pix.value.code() == "offline"

    # The sale waits until a manager authorizes contingency (or SEFAZ times out first).
    try:
        first = sell(register, [tenda.PaymentRequest.CASH(amount=total, tendered=total)])
        assert first.note.status in (tenda.FiscalStatus.PENDING, tenda.FiscalStatus.CONTINGENCY)
    except tenda.TendaError.ContingencyRequired as e:
        assert e.code() == "contingency_required"
    with pytest.raises(tenda.TendaError.InvalidInput) as short:
        pos.enter_contingency("curta", stack.approval("manager"))
    assert short.value.code() == "invalid_input" and short.value.field == "justification"
    pos.enter_contingency("Queda do link de internet da loja", stack.approval("manager"))
    watcher.wait_for(lambda s: s.sefaz == tenda.SefazMode.CONTINGENCY)
    if pos.ticket().lines:
        total = pos.ticket().total
        sell(register, [tenda.PaymentRequest.CASH(amount=total, tendered=total)])

    for code in (a, b):
        total = pos.scan_and_view(code).total
        sale = sell(register, [tenda.PaymentRequest.CASH(amount=total, tendered=total)])
        assert sale.note.contingency, "issued in contingency (tpEmis 9)"

    # A card offline: the seller reads the store's risk and accepts it; the payment is sealed
    # and forwarded when the link returns.
    total = pos.scan_and_view(a).total
    risk = pos.card_offline_risk(total)
    assert risk.offline and risk.allowed and risk.notice
    pos.accept_card_offline_risk()
    sell(register, [tenda.PaymentRequest.CARD(amount=total, kind=tenda.CardKind.CREDIT)])
    assert len(pos.pending_card_payments()) == 1

    # Beyond the owner's per-payment limit a card is refused offline, naming the limit.
    pos.scan(a, 20_000)  # 20 units
    big = pos.ticket().total
    assert big > risk.per_payment_limit
    pos.accept_card_offline_risk()
    with pytest.raises(tenda.TendaError.LimitExceeded) as limit:
        run(pos.checkout([tenda.PaymentRequest.CARD(amount=big, kind=tenda.CardKind.CREDIT)]))
    assert limit.value.code() == "limit_exceeded"
    assert limit.value.limit == tenda.LimitKind.CARD_OFFLINE_PER_PAYMENT
    assert limit.value.detail, "the refusal says why"
    pos.void_line(0, stack.approval("manager"))

    offline = [s for s in pos.offline_sales() if s.note and s.note.contingency]
    assert len(offline) >= 3

    stack.restore()
    run(pos.sync_and_wait(30_000))
    run(pos.forward_pending_card_payments())
    summary = run(pos.transmit_backlog(True))
    assert summary.remaining == 0, summary
    run(pos.sync_and_wait(30_000))
    assert len(pos.pending_card_payments()) == 0

    assert pos.offline_sales() == [], "nothing waits for the server or SEFAZ any more"
    sales = register["sales"]
    for sale in sales:
        detail = pos.sale_detail(sale.sale_id)
        assert detail.row.synced, sale
        assert detail.row.note.status == tenda.FiscalStatus.AUTHORIZED, detail.row
        at_sefaz = stack.note_at_sefaz(sale.note.access_key)
        assert at_sefaz is not None and at_sefaz["status"] in (100, 150), "SEFAZ authorized it"
    device_id = pos.enrollment().device_id
    mine = sorted(int(s["local_number"]) for s in stack.sales() if s["device_id"] == device_id)
    assert mine == sorted(s.local_number for s in sales), "every sale on the server exactly once"
    assert len(sales) >= 6
    assert pos.verify_audit().intact

    # The owner's fiscal report of contingency notes: each one issued offline, now authorized.
    rows = pos.contingency_notes_report(stack.approval("owner"))
    issued_offline = {s.note.access_key for s in sales if s.note.contingency}
    assert issued_offline <= {r.access_key for r in rows}
    assert all(r.authorized_at is not None and r.status_code in (100, 150) for r in rows), rows
    assert pos.notes_to_correct() == [] and pos.card_payments_to_recover() == []
    assert run(pos.sync_offline_sales_now()).sync_requested, "the sync engine runs on this device"
    del subscription
