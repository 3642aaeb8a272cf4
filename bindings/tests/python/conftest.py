"""The outside world for the Python binding tests: a real tenda-server and the SEFAZ simulator on
loopback behind a cuttable link (the `tenda-test-stack` binary), and the host side a phone app
would write: a key vault, peripheral links and a status listener."""

import asyncio
import json
import os
import subprocess
import threading

import pytest

import tenda


def run(coroutine):
    """Awaits one of the core's async calls from synchronous test code."""
    return asyncio.run(coroutine)


class Stack:
    """The running `tenda-test-stack`: its description and its command channel."""

    def __init__(self, binary):
        self.process = subprocess.Popen(
            [binary],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.info = json.loads(self.process.stdout.readline())
        self.lock = threading.Lock()

    def command(self, line):
        with self.lock:
            self.process.stdin.write(line + "\n")
            self.process.stdin.flush()
            answer = json.loads(self.process.stdout.readline())
        assert "error" not in answer, answer
        return answer

    def cut(self):
        self.command("cut")

    def restore(self):
        self.command("restore")

    def sales(self):
        return self.command("sales")["sales"]

    def note_at_sefaz(self, access_key):
        return self.command(f"note {access_key}")["note"]

    def new_code(self):
        return self.command("code")["code"]

    def stop(self):
        self.process.stdin.close()
        self.process.wait(timeout=30)

    def config(self, db_path, account):
        """Where the register keeps its store, and SEFAZ at the simulator (behind the link)
        with short pauses: a test restores the link within seconds, a store within minutes."""
        access = tenda.sefaz_access(self.info["sefaz_url"], [bytes.fromhex(self.info["sefaz_ca_der_hex"])])
        access.connect_timeout_ms = 1_000
        access.request_timeout_ms = 2_000
        access.transport_pause_ms = 10
        access.unavailable_pause_ms = 10
        access.probe_interval_ms = 500
        config = tenda.open_config(str(db_path), account)
        config.sefaz = tenda.SefazRoute.AT(access=access)
        return config

    def approval(self, who):
        person = self.info[who]
        if "pin" in person:
            return tenda.Approval(login=person["login"], secret=tenda.Secret.PIN(person["pin"]))
        return tenda.Approval(
            login=person["login"], secret=tenda.Secret.PASSWORD(person["password"])
        )


@pytest.fixture(scope="session")
def stack():
    binary = os.environ.get("TENDA_TEST_STACK")
    assert binary, "TENDA_TEST_STACK names the tenda-test-stack binary (scripts/test.d/bindings-python)"
    s = Stack(binary)
    yield s
    s.stop()


class MemoryVault(tenda.KeyStore):
    """The platform keystore as a phone gives it: keys by account."""

    def __init__(self):
        self.keys = {}

    def load(self, account):
        return self.keys.get(account)

    def save(self, account, key):
        self.keys[account] = bytes(key)


class BrokenVault(tenda.KeyStore):
    """A keystore that fails as a locked Android Keystore does."""

    def load(self, account):
        raise RuntimeError("keystore locked")

    def save(self, account, key):
        raise RuntimeError("keystore locked")


class SimulatedLink(tenda.PeripheralLink):
    """The host's byte link (its Bluetooth stack on a phone) to a simulated peripheral.
    `fail_after_bytes` makes the link drop mid-way, as a printer walking out of range does."""

    def __init__(self, peripheral, fail_after_bytes=None):
        self.peripheral = peripheral
        self.fail_after_bytes = fail_after_bytes
        self.written = 0

    def connect(self):
        return self.peripheral.connect()

    def acknowledges_writes(self):
        return True

    def can_read(self):
        return True

    def disconnect(self):
        self.peripheral.disconnect()

    def write(self, chunk):
        if self.fail_after_bytes is not None and self.written + len(chunk) > self.fail_after_bytes:
            raise OSError("Bluetooth link lost")
        self.written += len(chunk)
        self.peripheral.write(chunk)

    def read(self, timeout_ms):
        return self.peripheral.read(timeout_ms)


class StatusRecorder(tenda.StatusListener):
    """Every status the core delivers, and a way to wait for one that matches."""

    def __init__(self):
        self.seen = []
        self.changed = threading.Condition()

    def on_status(self, status):
        with self.changed:
            self.seen.append(status)
            self.changed.notify_all()

    def wait_for(self, predicate, timeout=30):
        with self.changed:
            ok = self.changed.wait_for(lambda: any(predicate(s) for s in self.seen), timeout)
        assert ok, f"no status matched within {timeout} s; last: {self.seen[-1] if self.seen else None}"

    def count(self):
        with self.changed:
            return len(self.seen)
