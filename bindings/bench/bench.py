"""The bindings bench from Python: the same offline checkout and scan round trips as
examples/bench_ffi.rs, through the generated bindings; and status events delivered to a Python
listener. Prints `<name>: <value> <unit>` lines (scripts/bench.d/bindings)."""

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import asyncio

import tenda

WARMUP, CHECKOUTS, SCANS = 100, 300, 2_000


class MemoryVault(tenda.KeyStore):
    def __init__(self):
        self.keys = {}

    def load(self, account):
        return self.keys.get(account)

    def save(self, account, key):
        self.keys[account] = bytes(key)


class StatusCounter(tenda.StatusListener):
    def __init__(self):
        self.received = 0
        self.last = None

    def on_status(self, status):
        self.received += 1
        self.last = status.pending_sync


def p50(samples):
    return sorted(samples)[len(samples) // 2]


def main():
    # One event loop for the whole run, as a host app has (Kotlin's runBlocking, Rust's runtime):
    # the checkout is timed, not the creation of a loop around it.
    loop = asyncio.new_event_loop()
    run = loop.run_until_complete
    stack = subprocess.Popen([os.environ["TENDA_TEST_STACK"]], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    info = json.loads(stack.stdout.readline())
    pin = lambda who: tenda.Approval(login=info[who]["login"], secret=tenda.Secret.PIN(info[who]["pin"]))
    with tempfile.TemporaryDirectory() as d:
        request = tenda.EnrollmentRequest(
            server_url=info["server_url"], code=info["enrollment_code"], device_name="Caixa bench Python",
            expected_fingerprint=None, first_load_timeout_ms=600_000,
        )
        config = tenda.open_config(os.path.join(d, "bench.db"), "bench")
        config.sefaz = tenda.SefazRoute.AT(access=tenda.sefaz_access(info["sefaz_url"], [bytes.fromhex(info["sefaz_ca_der_hex"])]))
        pos = run(tenda.enroll(config, MemoryVault(), None, request, None))
        owner = tenda.Approval(login="dona", secret=tenda.Secret.PASSWORD(info["owner"]["password"]))
        pos.install_certificate(bytes.fromhex(info["certificate_pfx_hex"]), info["certificate_password"], owner)
        pos.sign_in(info["seller"]["login"], tenda.Secret.PIN(info["seller"]["pin"]))
        pos.open_register(10_000, pin("manager"))
        stack.stdin.write("cut\n")
        stack.stdin.flush()
        stack.stdout.readline()
        pos.enter_contingency("Queda do link de internet da loja", pin("manager"))

        codes = [p["code"] for p in info["products"][:5]]
        checkout_ms = []
        for i in range(WARMUP + CHECKOUTS):
            for code in codes:
                pos.scan(code, None)
            total = pos.ticket().total
            started = time.perf_counter()
            run(pos.checkout([tenda.PaymentRequest.CASH(amount=total, tendered=total)]))
            if i >= WARMUP:
                checkout_ms.append((time.perf_counter() - started) * 1e3)
        scan_us = []
        for i in range(SCANS):
            started = time.perf_counter()
            pos.scan_and_view(codes[i % len(codes)])
            scan_us.append((time.perf_counter() - started) * 1e6)
            if i % 20 == 19:
                pos.clear_ticket()
        run(pos.shutdown())
    stack.stdin.close()
    stack.wait()
    loop.close()
    events = StatusCounter()
    count = 50_000
    micros = tenda.status_event_burst(events, count)
    assert events.last == count, f"the last state was lost: {events.last} != {count}"
    print(f"ffi_checkout_offline_p50_python: {p50(checkout_ms):.3f} ms")
    print(f"ffi_scan_p50_python: {p50(scan_us):.1f} us")
    print(f"ffi_status_events_per_s_python: {events.received * 1e6 / micros:.0f} events/s")


if __name__ == "__main__":
    sys.exit(main())
