"""Errors reach Python as `TendaError` exceptions with their stable code and fields; the status
listener stops when its subscription goes; host code that fails (a keystore, a printer link)
comes back as a typed error and never costs a committed sale; nothing works after shutdown."""

import gc

import pytest

import tenda
from conftest import run, BrokenVault, MemoryVault, SimulatedLink, StatusRecorder


@pytest.fixture(scope="module")
def device(stack, tmp_path_factory):
    """A second register of the same store, enrolled with a fresh code."""
    vault = MemoryVault()
    path = tmp_path_factory.mktemp("till2") / "caixa2.db"
    request = tenda.EnrollmentRequest(
        server_url=stack.info["server_url"],
        code=stack.new_code(),
        device_name="Caixa Python 2",
        expected_fingerprint=None,
        first_load_timeout_ms=60_000,
    )
    pos = run(tenda.enroll(stack.config(path, "caixa-2"), vault, None, request, None))
    pos.install_certificate(
        bytes.fromhex(stack.info["certificate_pfx_hex"]),
        stack.info["certificate_password"],
        stack.approval("owner"),
    )
    return {"pos": pos, "vault": vault, "path": path}


def test_wrong_pin_counts_down_then_locks_out(stack, device):
    pos = device["pos"]
    login = stack.info["second_seller"]["login"]
    with pytest.raises(tenda.TendaError.WrongCredentials) as first:
        pos.sign_in(login, tenda.Secret.PIN("0000"))
    assert first.value.code() == "wrong_credentials"
    remaining = first.value.remaining_attempts
    assert remaining >= 1
    for _ in range(remaining - 1):
        with pytest.raises(tenda.TendaError.WrongCredentials):
            pos.sign_in(login, tenda.Secret.PIN("0000"))
    # The next wrong PIN locks the account; even the right PIN is refused until the time given.
    with pytest.raises(tenda.TendaError.LockedOut) as locked:
        pos.sign_in(login, tenda.Secret.PIN("0000"))
    assert locked.value.code() == "locked_out" and locked.value.until
    with pytest.raises(tenda.TendaError.LockedOut):
        pos.sign_in(login, tenda.Secret.PIN(stack.info["second_seller"]["pin"]))


def test_a_seller_needs_a_managers_approval_to_void(stack, device):
    pos = device["pos"]
    pos.sign_in(stack.info["seller"]["login"], tenda.Secret.PIN(stack.info["seller"]["pin"]))
    pos.scan(stack.info["products"][0]["code"], None)
    with pytest.raises(tenda.TendaError.Forbidden) as refused:
        pos.void_line(0, None)
    assert refused.value.code() == "forbidden" and refused.value.permission
    assert len(pos.ticket().lines) == 1, "a refused void changes nothing"
    pos.void_line(0, stack.approval("manager"))
    assert pos.ticket().lines == []


def test_listener_hears_changes_until_its_subscription_is_dropped(stack, device):
    pos = device["pos"]
    recorder = StatusRecorder()
    subscription = pos.subscribe(recorder)
    recorder.wait_for(lambda s: True)  # the current status, at once
    pos.attach_printer(SimulatedLink(tenda.SimulatedPeripheral.printer()))
    recorder.wait_for(lambda s: isinstance(s.printer, tenda.PeripheralState.READY))
    heard = recorder.count()

    del subscription
    gc.collect()
    pos.pair_card_reader(SimulatedLink(tenda.SimulatedPeripheral.card_reader()))
    assert isinstance(pos.status().card_reader, tenda.PeripheralState.READY)
    assert recorder.count() == heard, "no delivery after the subscription is gone"


def test_printer_failing_mid_receipt_keeps_the_sale(stack, device):
    pos = device["pos"]
    printer = tenda.SimulatedPeripheral.printer()
    pos.attach_printer(SimulatedLink(printer, fail_after_bytes=200))
    pos.sign_in(stack.info["seller"]["login"], tenda.Secret.PIN(stack.info["seller"]["pin"]))
    pos.open_register(10_000, stack.approval("manager"))
    total = pos.scan_and_view(stack.info["products"][1]["code"]).total
    sale = run(pos.checkout([tenda.PaymentRequest.CASH(amount=total, tendered=total)]))
    assert not sale.printed and sale.print_error, "the receipt failed, and says why"
    assert pos.sale_detail(sale.sale_id).row.total == total, "the sale stands"
    # Back in range: the receipt is reprinted from the stored sale.
    pos.attach_printer(SimulatedLink(printer))
    assert run(pos.reprint(sale.sale_id)).printed
    device["committed_sale"] = sale.sale_id


def test_a_failing_keystore_gives_a_typed_error_and_loses_nothing(stack, device):
    pos = device["pos"]
    committed = device["committed_sale"]
    run(pos.shutdown())
    with pytest.raises(tenda.TendaError.ShutDown) as after:
        pos.ticket()
    assert after.value.code() == "shut_down"

    with pytest.raises(tenda.TendaError) as broken:
        tenda.open(stack.config(device["path"], "caixa-2"), BrokenVault(), None)
    assert broken.value.code() == "host", "the host's exception arrived typed"

    reopened = tenda.open(stack.config(device["path"], "caixa-2"), device["vault"], None)
    assert reopened.sale_detail(committed).row.sale_id == committed, "the committed sale is intact"
    assert reopened.verify_audit().intact
    run(reopened.shutdown())
