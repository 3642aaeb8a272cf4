"""Speed of the desktop app in its real window (release build, demo store, Xvfb +
tauri-driver + WebKitWebDriver). Prints one `name: value unit` line per figure.

Usage: app_bench.py BINARY CATALOG_SIZE

- cold_start_to_sign_in: from asking for the window to a sign-in screen with the store ready
  (the demo store is created in that time too: server, simulator, catalog, enrollment, first
  load), measured twice: with a small catalog and with CATALOG_SIZE products.
- scan_to_line_p99: a barcode typed and Enter pressed → the new line painted (200 scans).
- search_keystroke_to_results_p99: a keystroke in the search → the results painted (100 keys).
- catalog_scroll_blank_frames: frames, while the back office's catalog table scrolls through
  the CATALOG_SIZE products, in which a visible row was still a placeholder.
- rss_with_catalog: the app process's resident memory with the catalog loaded.
"""

import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from window import Window, app_window

BINARY, CATALOG = sys.argv[1], int(sys.argv[2])
LOGS = tempfile.mkdtemp(prefix="tenda-app-bench-")


@contextmanager
def signed_out_window(catalog):
    """The app on a demo store of `catalog` products, at its sign-in screen; yields the session
    and the seconds from asking for the window to that screen."""
    env = dict(os.environ, TENDA_DEMO_CATALOG=str(catalog))
    started = time.monotonic()
    with app_window(BINARY, os.path.join(LOGS, f"drivers-{catalog}.log"), env=env, call_timeout=900) as driver:
        WebDriverWait(driver, 900, poll_frequency=0.02).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, '[data-testid="sign-in"]')
        )
        yield driver, time.monotonic() - started


def p99(values):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * 0.99))]


def app_pid():
    out = subprocess.run(["pgrep", "-n", "-f", BINARY], capture_output=True, text=True).stdout.split()
    return int(out[0]) if out else None


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


# In the page: type a code the way a scanner does (value + Enter) and time until the painted
# ticket has one more line. Runs `count` times and returns the durations in ms.
SCAN_JS = """
const [codes, count, done] = [arguments[0], arguments[1], arguments[arguments.length - 1]];
const input = document.querySelector('[data-testid="scan"]');
const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
const lines = () => document.querySelectorAll('[data-testid="ticket-line"]').length;
const times = [];
// A scan that adds no line in 10 s fails the run instead of holding it.
const one = (i) => new Promise((resolve, reject) => {
  const before = lines();
  const t0 = performance.now();
  const late = setTimeout(() => reject(new Error(`no line for ${codes[i % codes.length]}`)), 10000);
  const obs = new MutationObserver(() => {
    if (lines() > before) { clearTimeout(late); obs.disconnect(); requestAnimationFrame(() => resolve(performance.now() - t0)); }
  });
  obs.observe(document.body, {childList: true, subtree: true});
  setter.call(input, codes[i % codes.length]);
  input.dispatchEvent(new Event('input', {bubbles: true}));
  input.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', bubbles: true}));
});
(async () => {
  try { for (let i = 0; i < count; i++) times.push(await one(i)); done(times); }
  catch (e) { done(String(e)); }
})();
"""

# In the page: the same commands called straight through Tauri's IPC, with nothing painted —
# what the core and the bridge cost, apart from the rendering.
INVOKE_JS = """
const [command, argsList, done] = [arguments[0], arguments[1], arguments[arguments.length - 1]];
const invoke = window.__TAURI_INTERNALS__.invoke;
(async () => {
  const times = [];
  try {
    for (const args of argsList) {
      const t0 = performance.now();
      await invoke(command, args);
      times.push(performance.now() - t0);
    }
    done(times);
  } catch (e) { done(String(e)); }
})();
"""

SEARCH_JS = """
const [words, done] = [arguments[0], arguments[arguments.length - 1]];
const input = document.querySelector('[data-testid="scan"]');
const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
const times = [];
const one = (text) => new Promise((resolve, reject) => {
  const t0 = performance.now();
  const late = setTimeout(() => reject(new Error(`no results for ${text}`)), 10000);
  const obs = new MutationObserver(() => {
    const r = document.querySelector('[data-testid="search-results"]');
    if (r && r.dataset.query === text) { clearTimeout(late); obs.disconnect(); requestAnimationFrame(() => resolve(performance.now() - t0)); }
  });
  obs.observe(document.body, {childList: true, subtree: true, attributes: true});
  setter.call(input, text);
  input.dispatchEvent(new Event('input', {bubbles: true}));
});
(async () => {
  try { for (const w of words) times.push(await one(w)); done(times); }
  catch (e) { done(String(e)); }
})();
"""

# In the page: scroll the catalog one screen per frame (a fast fling: ~20 rows a frame, 1,200
# rows a second), for up to FRAMES frames, counting the frames in which a visible row was still a
# placeholder.
SCROLL_JS = """
const [frameLimit, done] = [arguments[0], arguments[arguments.length - 1]];
const box = document.querySelector('[data-testid="catalog-table"]');
let blank = 0, frames = 0;
const tick = () => {
  frames++;
  if (box.querySelector('.vrow .muted')) blank++;
  if (box.scrollTop + box.clientHeight >= box.scrollHeight - 2 || frames >= frameLimit) {
    done([frames, blank, Math.round(box.scrollTop / 30)]); return;
  }
  box.scrollTop += box.clientHeight;
  requestAnimationFrame(tick);
};
requestAnimationFrame(tick);
"""


def sign_in_and_open(w):
    """Bia signs in and opens the register with Caio's approval, typed as a person types."""
    w.type("login", "bia")
    w.type("pin", "1357", enter=True)
    w.click("open-register-submit")
    w.type("manager-pin", "2468", enter=True)
    w.el("scan", 60)


def main():
    with signed_out_window(1_000) as (_, small):
        print(f"cold_start_to_sign_in_demo_1k: {small * 1000:.0f} ms", flush=True)

    with signed_out_window(CATALOG) as (driver, large):
        print(f"cold_start_to_sign_in_demo_{CATALOG // 1000}k: {large * 1000:.0f} ms", flush=True)
        driver.set_script_timeout(600)
        # A failed wait leaves its screenshot in LOGS.
        w = Window(driver, LOGS)
        # The sample barcodes are shown on the sign-in screen.
        codes = [c.text for c in driver.find_elements(By.CSS_SELECTOR, ".sample")][:3]
        assert codes, "the sign-in screen shows sample barcodes"
        sign_in_and_open(w)
        pid = app_pid()
        if pid:
            print(f"rss_at_counter_{CATALOG // 1000}k: {rss_mb(pid):.0f} MB", flush=True)
        scans = driver.execute_async_script(SCAN_JS, codes, 200)
        assert isinstance(scans, list), scans
        print(f"scan_to_line_p99: {p99(scans):.1f} ms", flush=True)
        words = []
        for word in ["arroz", "feijao", "cafe", "leite", "oleo", "acucar", "tomate", "carne", "sabao", "pao"]:
            words += [word[:i] for i in range(2, len(word) + 1)] + [word + " premium"[:i] for i in range(2, 9)]
        words = words[:100]
        searches = driver.execute_async_script(SEARCH_JS, words)
        assert isinstance(searches, list), searches
        print(f"search_keystroke_to_results_p99: {p99(searches):.1f} ms", flush=True)
        commands = driver.execute_async_script(INVOKE_JS, "search_products", [{"text": t, "limit": 20} for t in words])
        assert isinstance(commands, list), commands
        print(f"search_command_round_trip_p99: {p99(commands):.1f} ms", flush=True)
        commands = driver.execute_async_script(INVOKE_JS, "scan", [{"code": codes[i % len(codes)], "quantity": None} for i in range(200)])
        assert isinstance(commands, list), commands
        print(f"scan_command_round_trip_p99: {p99(commands):.1f} ms", flush=True)
        w.click("mode-backoffice")
        w.click("bo-login-submit")
        w.click("bo-tab-catalog")
        # The whole catalog sized (its total counted) and the first rows in.
        w.wait(lambda: driver.execute_script(
            "const b = document.querySelector('[data-testid=\"catalog-table\"]');"
            "return b && b.scrollHeight >= arguments[0] * 30 * 0.99 && !b.querySelector('.vrow .muted')", CATALOG),
            60, "the catalog sized and its first rows")
        frames, blank, rows = driver.execute_async_script(SCROLL_JS, 600)
        print(f"catalog_scroll_frames: {frames} frames", flush=True)
        print(f"catalog_scroll_rows: {rows} rows", flush=True)
        print(f"catalog_scroll_blank_frames: {blank} frames", flush=True)
        if pid:
            print(f"rss_with_catalog_{CATALOG // 1000}k: {rss_mb(pid):.0f} MB", flush=True)


if __name__ == "__main__":
    main()
