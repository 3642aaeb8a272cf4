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

from window import app_window

BINARY, CATALOG = sys.argv[1], int(sys.argv[2])
LOGS = tempfile.mkdtemp(prefix="tenda-app-bench-")


def click(driver, element):
    """Clicks through the DOM: WebKitWebDriver's native click sometimes never answers in this
    window (see app_e2e.py), and a hung call would hold the whole bench."""
    driver.execute_script("arguments[0].click()", element)

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
const one = (i) => new Promise((resolve) => {
  const before = lines();
  const t0 = performance.now();
  const obs = new MutationObserver(() => {
    if (lines() > before) { obs.disconnect(); requestAnimationFrame(() => resolve(performance.now() - t0)); }
  });
  obs.observe(document.body, {childList: true, subtree: true});
  setter.call(input, codes[i % codes.length]);
  input.dispatchEvent(new Event('input', {bubbles: true}));
  input.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', bubbles: true}));
});
(async () => { for (let i = 0; i < count; i++) times.push(await one(i)); done(times); })();
"""

SEARCH_JS = """
const [words, done] = [arguments[0], arguments[arguments.length - 1]];
const input = document.querySelector('[data-testid="scan"]');
const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
const times = [];
const one = (text) => new Promise((resolve) => {
  const t0 = performance.now();
  const obs = new MutationObserver(() => {
    const r = document.querySelector('[data-testid="search-results"]');
    if (r && r.dataset.query === text) { obs.disconnect(); requestAnimationFrame(() => resolve(performance.now() - t0)); }
  });
  obs.observe(document.body, {childList: true, subtree: true, attributes: true});
  setter.call(input, text);
  input.dispatchEvent(new Event('input', {bubbles: true}));
});
(async () => { for (const w of words) times.push(await one(w)); done(times); })();
"""

SCROLL_JS = """
const done = arguments[arguments.length - 1];
const box = document.querySelector('[data-testid="catalog-table"]');
let blank = 0, frames = 0;
const step = box.clientHeight * 3;
const tick = () => {
  frames++;
  if (box.querySelector('.vrow .muted')) blank++;
  if (box.scrollTop + box.clientHeight >= box.scrollHeight - 2 || frames > 2000) { done([frames, blank, box.scrollTop]); return; }
  box.scrollTop += step;
  requestAnimationFrame(tick);
};
requestAnimationFrame(tick);
"""


def sign_in_and_open(driver):
    driver.find_element(By.CSS_SELECTOR, '[data-testid="login"]').clear()
    driver.find_element(By.CSS_SELECTOR, '[data-testid="login"]').send_keys("bia")
    driver.find_element(By.CSS_SELECTOR, '[data-testid="pin"]').send_keys("1357\n")
    WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, '[data-testid="open-register-submit"]'))
    click(driver, driver.find_element(By.CSS_SELECTOR, '[data-testid="open-register-submit"]'))
    WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, '[data-testid="manager-pin"]'))
    driver.find_element(By.CSS_SELECTOR, '[data-testid="manager-pin"]').send_keys("2468\n")
    WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, '[data-testid="scan"]'))


def main():
    with signed_out_window(1_000) as (_, small):
        print(f"cold_start_to_sign_in_demo_1k: {small * 1000:.0f} ms", flush=True)

    with signed_out_window(CATALOG) as (driver, large):
        print(f"cold_start_to_sign_in_demo_{CATALOG // 1000}k: {large * 1000:.0f} ms", flush=True)
        driver.set_script_timeout(600)
        sign_in_and_open(driver)
        codes = [c.text for c in driver.find_elements(By.CSS_SELECTOR, ".sample")][:3]
        scans = driver.execute_async_script(SCAN_JS, codes, 200)
        print(f"scan_to_line_p99: {p99(scans):.1f} ms", flush=True)
        words = []
        for w in ["arroz", "feijao", "cafe", "leite", "oleo", "acucar", "tomate", "carne", "sabao", "pao"]:
            words += [w[:i] for i in range(2, len(w) + 1)] + [w + " premium"[: i] for i in range(2, 9)]
        words = words[:100]
        searches = driver.execute_async_script(SEARCH_JS, words)
        print(f"search_keystroke_to_results_p99: {p99(searches):.1f} ms", flush=True)
        pid = app_pid()
        click(driver, driver.find_element(By.CSS_SELECTOR, '[data-testid="mode-backoffice"]'))
        click(driver, driver.find_element(By.CSS_SELECTOR, '[data-testid="bo-login-submit"]'))
        WebDriverWait(driver, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, '[data-testid="bo-tab-catalog"]'))
        click(driver, driver.find_element(By.CSS_SELECTOR, '[data-testid="bo-tab-catalog"]'))
        WebDriverWait(driver, 60).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, '[data-testid="catalog-row"]')) > 10)
        frames, blank, top = driver.execute_async_script(SCROLL_JS)
        print(f"catalog_scroll_frames: {frames} frames", flush=True)
        print(f"catalog_scroll_blank_frames: {blank} frames", flush=True)
        if pid:
            print(f"rss_with_catalog_{CATALOG // 1000}k: {rss_mb(pid):.0f} MB", flush=True)


if __name__ == "__main__":
    main()
