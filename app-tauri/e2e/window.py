"""Opens the desktop app in its real WebKit window for a test or a bench: starts tauri-driver
(which starts WebKitWebDriver), waits until both listen, and asks for a session. The drivers'
output goes to a log file whose end is printed when anything fails."""

import os
import socket
import struct
import subprocess
import time
import zlib
from contextlib import contextmanager

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait
from selenium.webdriver.common.options import ArgOptions
from selenium.webdriver.remote.client_config import ClientConfig


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, what, seconds=60):
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} did not listen on port {port} in {seconds} s")
            time.sleep(0.05)


@contextmanager
def app_window(binary, log_path, env=None, call_timeout=60, page_load_strategy=None):
    """Yields a WebDriver session on a fresh app process; quits it and the drivers after.

    call_timeout: seconds any one WebDriver call may take before it fails instead of hanging.
    """
    port, native_port = free_port(), free_port()
    log = open(log_path, "wb")
    drivers = subprocess.Popen(
        ["tauri-driver", "--port", str(port), "--native-port", str(native_port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        # tauri-driver forwards the new session to WebKitWebDriver, its child; on a cold machine
        # that child may not listen yet, and the forward would drop the connection unanswered.
        wait_listening(port, "tauri-driver")
        wait_listening(native_port, "WebKitWebDriver")
        options = ArgOptions()
        options.set_capability("browserName", "wry")
        if page_load_strategy:
            options.page_load_strategy = page_load_strategy
        options.set_capability("tauri:options", {"application": binary})
        address = f"http://127.0.0.1:{port}"
        client = ClientConfig(remote_server_addr=address, timeout=call_timeout)
        driver = webdriver.Remote(command_executor=address, options=options, client_config=client)
        try:
            yield driver
        finally:
            try:
                driver.quit()
            except WebDriverException:
                pass
    except BaseException:
        log.flush()
        with open(log_path, "rb") as f:
            tail = f.read()[-4000:].decode("utf-8", "replace")
        print(f"--- {log_path} (end) ---\n{tail}", flush=True)
        raise
    finally:
        drivers.terminate()
        drivers.wait(10)
        log.close()


def framebuffer_png(xwd_path, png_path):
    """Writes the X server's screen, as Xvfb keeps it in XWD form under `-fbdir`, as a PNG: the
    pixels a person would see. (WebKitWebDriver's own screenshot waits for WebKit's next
    presentation update, and in this window one sometimes never comes — seen on short back-office
    pages — though the window itself has long been painted.)"""
    with open(xwd_path, "rb") as f:
        xwd = f.read()
    header = struct.unpack(">25I", xwd[:100])
    header_size, width, height = header[0], header[4], header[5]
    byte_order, bits_per_pixel, bytes_per_line, colors = header[7], header[11], header[12], header[19]
    assert bits_per_pixel == 32, f"a 24-bit screen is kept as 32 bits per pixel, not {bits_per_pixel}"
    start = header_size + colors * 12
    # Each pixel is B, G, R, pad (least significant byte first) or the reverse.
    r, g, b = (2, 1, 0) if byte_order == 0 else (1, 2, 3)
    rows = []
    for y in range(height):
        line = xwd[start + y * bytes_per_line : start + y * bytes_per_line + width * 4]
        rgb = bytearray(width * 3)
        rgb[0::3], rgb[1::3], rgb[2::3] = line[r::4], line[g::4], line[b::4]
        rows.append(b"\0" + bytes(rgb))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    with open(png_path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(b"".join(rows), 6)))
        f.write(chunk(b"IEND", b""))


def by_id(test_id):
    return (By.CSS_SELECTOR, f'[data-testid="{test_id}"]')


class Window:
    """The window as a person uses it: elements by their data-testid, waits with a limit,
    clicks and typing as a person does them, a screenshot per step."""

    def __init__(self, driver, shots, passed=None):
        self.d = driver
        self.n = 0
        self.shots = shots
        self.passed = passed if passed is not None else []

    def wait(self, cond, timeout=30, what="condition"):
        try:
            return WebDriverWait(self.d, timeout, poll_frequency=0.1).until(lambda d: cond())
        except TimeoutException as e:
            self.shot("FAILED")
            raise AssertionError(f"timed out waiting for {what}") from e

    def el(self, test_id, timeout=30):
        return self.wait(lambda: self._find(test_id), timeout, f"[{test_id}]")

    def _find(self, test_id):
        try:
            els = self.d.find_elements(*by_id(test_id))
            return els[0] if els and els[0].is_displayed() else None
        except StaleElementReferenceException:
            # Removed from the page between finding and asking: as good as gone.
            return None

    def gone(self, test_id, timeout=30):
        self.wait(lambda: self._find(test_id) is None, timeout, f"[{test_id}] to close")

    def text(self, test_id, timeout=30):
        return self.el(test_id, timeout).text

    def text_has(self, test_id, needle, timeout=30):
        return self.wait(lambda: needle in self._text(test_id), timeout, f"[{test_id}] to say {needle!r}")

    def _text(self, test_id):
        try:
            e = self._find(test_id)
            return e.text if e else ""
        except StaleElementReferenceException:
            return ""

    def click(self, test_id):
        """A click dispatched by the page itself. WebKitWebDriver's native click sometimes never
        answers in this window (seen on the demo's link switch and the sales key once the link
        is cut) while the page stays responsive; a hung WebDriver call would hold the whole
        run, so clicks go through the DOM (React's handlers run the same)."""
        print(f"  click {test_id}", flush=True)
        self.d.execute_script("arguments[0].click()", self.el(test_id))

    def type(self, test_id, text, enter=False):
        print(f"  type {test_id}", flush=True)
        e = self.el(test_id)
        # Select and delete what is there, as a person would (clear() bypasses React's input
        # events, and the field would keep its old value).
        e.send_keys(Keys.CONTROL, "a")
        e.send_keys(Keys.BACKSPACE)
        e.send_keys(text)
        if enter:
            e.send_keys(Keys.ENTER)

    def shot(self, name):
        self.n += 1
        path = os.path.join(self.shots, f"{self.n:02d}-{name}.png")
        framebuffer = os.environ.get("TENDA_XVFB_SCREEN")
        if framebuffer:
            framebuffer_png(framebuffer, path)
        else:
            self.d.save_screenshot(path)
        return path

    def step(self, name):
        self.passed.append(name)
        print(f"ok: {name} -> {self.shot(name)}", flush=True)
