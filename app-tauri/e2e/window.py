"""Opens the desktop app in its real WebKit window for a test or a bench: starts tauri-driver
(which starts WebKitWebDriver), waits until both listen, and asks for a session. The drivers'
output goes to a log file whose end is printed when anything fails."""

import os
import socket
import subprocess
import time
from contextlib import contextmanager

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
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
