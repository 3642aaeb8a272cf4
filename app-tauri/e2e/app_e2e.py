"""The seed's day through the desktop app, in the real WebKit window (tauri-driver +
WebKitWebDriver under Xvfb): sign in, scan, pay cash, receipt; cut the store's link; a manager
enters contingency; sell offline (cash and card); restore; the backlog badge goes to zero and
every note shows authorized; the owner's back office shows the sales and a chart; switch
language. Bad input on the way: wrong PIN, unknown barcode, malformed CPF, a CSV with bad rows,
a setting out of range — each a clear message in the user's language, nothing lost.

Usage: app_e2e.py BINARY SCREENSHOT_DIR   (tauri-driver must be on PATH)
Every step writes SCREENSHOT_DIR/NN-step.png. Exits non-zero at the first failed expectation.
"""

import os
import re
import sys
import tempfile
import time

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from window import Window, app_window, by_id

BINARY, SHOTS = sys.argv[1], sys.argv[2]
os.makedirs(SHOTS, exist_ok=True)
PASSED = []


def scan(w, code):
    w.type("scan", code, enter=True)


def access_key(first43):
    """A well-formed NFC-e access key: the 43 digits and their mod-11 check digit."""
    total = sum(int(d) * (2 + i % 8) for i, d in enumerate(reversed(first43)))
    check = 11 - total % 11
    return first43 + str(0 if check >= 10 else check)


def pay_cash(w, amount):
    w.click("key-pay")
    w.type("pay-amount", amount)
    w.click("pay-cash")
    w.el("receipt", 60)


def main():
    with app_window(BINARY, os.path.join(SHOTS, "drivers.log"), page_load_strategy="none") as driver:
        run(Window(driver, SHOTS, PASSED))


def run(w):
    # The demo store starts (server, simulator, enrollment, first load) behind the splash.
    w.el("sign-in", 180)
    assert "1357" in w.text("demo-users"), "demo PINs are shown"
    codes = w.d.find_elements(By.CSS_SELECTOR, ".sample")
    codes = [c.text for c in codes]
    assert len(codes) >= 3, codes
    w.step("sign-in")

    w.type("login", "bia")
    w.type("pin", "0000", enter=True)
    w.text_has("error", "PIN ou senha incorretos")
    w.step("wrong-pin")

    w.type("pin", "1357", enter=True)
    w.el("open-register")
    w.step("open-register")
    w.click("open-register-submit")
    # A seller opens the register with a manager's approval, asked for in a dialog.
    w.el("manager-dialog")
    w.type("manager-pin", "2468", enter=True)
    w.el("counter", 60)

    scan(w, "7890000000000")
    w.text_has("error", "Nenhum produto com o código “7890000000000”")
    assert w.el("scan").get_attribute("value") == "7890000000000", "the typed code is kept"
    w.step("unknown-barcode")

    scan(w, codes[0])
    w.wait(lambda: len(w.d.find_elements(*by_id("ticket-line"))) == 1, what="one line")
    scan(w, codes[1])
    w.wait(lambda: len(w.d.find_elements(*by_id("ticket-line"))) == 2, what="two lines")
    # Search as you type over the catalog.
    w.type("scan", "arroz")
    w.el("search-results")
    w.step("ticket-and-search")
    w.el("scan").send_keys(Keys.CONTROL, "a")
    w.el("scan").send_keys(Keys.BACKSPACE)

    w.click("key-consumer")
    w.type("prompt-input", "123.456.789-00", enter=True)
    w.text_has("error", "não é válido")
    assert w.el("prompt-input").get_attribute("value") == "123.456.789-00", "the typed CPF is kept"
    w.step("malformed-cpf")
    w.el("prompt-input").send_keys(Keys.ESCAPE)
    w.gone("prompt-dialog")

    pay_cash(w, "100,00")
    w.el("receipt-png", 30)
    w.text_has("receipt-note", "autorizada", 30)
    w.step("receipt-online")
    # Cancelling by substitution a note SEFAZ never authorized: a manager approves, SEFAZ is
    # consulted first, and its own answer refuses it in the window; this sale's note is untouched.
    w.click("cancel-substitution")
    w.type("superseded-key", access_key("3526120615725000011665001000009999112345678"))
    w.type("cancel-justification", "Nota emitida em duplicidade no caixa")
    w.click("cancel-substitution-submit")
    w.el("manager-dialog")
    w.type("manager-pin", "2468", enter=True)
    w.text_has("error", "Recusado")
    w.text_has("receipt-note", "autorizada")
    w.step("substitution-refused")
    w.click("new-sale")
    w.gone("receipt")

    # The store's internet drops.
    w.click("link-switch")
    w.text_has("status-link", "Offline", 60)
    w.step("link-cut")

    w.click("key-contingency")
    w.type("contingency-pin", "2468")
    w.type("contingency-justification", "curta")
    w.click("contingency-submit")
    w.text_has("error", "pelo menos 15")
    w.type("contingency-justification", "Queda do link de internet da loja")
    w.step("contingency-dialog")
    w.click("contingency-submit")
    w.gone("contingency-dialog")
    w.text_has("status-sefaz", "contingência", 30)

    scan(w, codes[2])
    w.wait(lambda: len(w.d.find_elements(*by_id("ticket-line"))) == 1, what="offline line")
    pay_cash(w, "50,00")
    w.text_has("receipt-note", "contingência", 30)
    w.step("offline-cash-receipt")
    w.click("new-sale")
    w.gone("receipt")

    scan(w, codes[0])
    w.wait(lambda: len(w.d.find_elements(*by_id("ticket-line"))) == 1, what="card line")
    w.click("key-pay")
    w.click("pay-card-credit")
    w.el("card-risk")
    w.step("card-offline-risk")
    w.click("accept-risk")
    w.el("receipt", 60)
    w.step("offline-card-receipt")
    w.click("new-sale")
    w.gone("receipt")

    w.text_has("status-backlog", "NFC-e em contingência")
    backlog = w.text("status-backlog")
    assert not backlog.startswith("0 vendas") or "0 NFC-e" not in backlog, backlog
    w.click("key-sales")
    w.el("sales-table")
    w.step("offline-sales-list")
    w.d.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
    w.gone("offline-sales")

    # The link returns: the backlog goes out, the badge goes to zero.
    w.click("link-switch")
    w.text_has("status-link", "Online", 60)
    w.text_has("status-backlog", "0 vendas a sincronizar · 0 NFC-e em contingência", 120)
    w.step("restored-badge-zero")

    # The list holds every sale not yet on the server or whose note SEFAZ has not authorized:
    # after the backlog drained, it is empty.
    w.click("key-sales")
    w.el("sales-empty")
    assert not w.d.find_elements(*by_id("sale-row")), "no sale waits for the server or SEFAZ"
    w.step("every-note-authorized")
    w.d.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
    w.gone("offline-sales")

    # A manager's fiscal duties (F1): nothing rejected, nothing left to void.
    w.click("key-fiscal")
    w.el("fiscal-none-to-correct")
    w.el("fiscal-no-unused")
    w.step("fiscal-notes")
    w.d.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
    w.gone("fiscal-notes")

    # The customer changes their mind: the authorized note is cancelled with SEFAZ (110111),
    # with a justification and a manager's PIN on the seller's session.
    scan(w, codes[1])
    w.wait(lambda: len(w.d.find_elements(*by_id("ticket-line"))) == 1, what="a line to cancel")
    pay_cash(w, "50,00")
    w.text_has("receipt-note", "autorizada", 30)
    w.click("cancel-note")
    w.type("cancel-justification", "Cliente desistiu da compra no caixa")
    w.click("cancel-note-submit")
    w.el("manager-dialog")
    w.type("manager-pin", "2468", enter=True)
    w.text_has("receipt-cancelled", "cancelada", 60)
    w.step("note-cancelled")
    w.click("new-sale")
    w.gone("receipt")

    # End of the shift: the seller closes the register with a manager. The drawer's cash must
    # be counted; a kind left blank is taken as the system expects, never as zero.
    w.click("key-close")
    w.el("close-register")
    # The register as it is now, with the day's sales, not as it was when it opened.
    summary = w.text("close-register")
    assert re.search(r"(?<!\d)[1-9]\d* vendas", summary), summary
    w.click("close-register-submit")
    w.text_has("error", "Conte o dinheiro da gaveta")
    w.step("close-register-count-cash")
    w.type("counted-Cash", "100,00")
    w.click("close-register-submit")
    w.el("manager-dialog")
    w.type("manager-pin", "2468", enter=True)
    w.text_has("closing-report", "Conta do cliente", 30)
    w.step("register-closed")
    w.click("close-register-done")
    w.el("open-register", 30)

    # The owner's back office.
    w.click("mode-backoffice")
    w.click("bo-login-submit")
    w.el("reports")
    w.text_has("bo-sales-count", "vendas no servidor")
    count = int(w.text("bo-sales-count").split()[0])
    assert count >= 3, f"the server has the day's sales ({count})"
    w.wait(lambda: w.d.find_elements(By.CSS_SELECTOR, '[data-testid="chart-hour"] canvas'), what="a chart")
    # This register's payments by method, once the owner's password has opened its reports and
    # the chart has painted (a canvas with some opaque pixel).
    w.wait(
        lambda: w.d.execute_script(
            """const c = document.querySelector('[data-testid="chart-method"] canvas');
            if (!c || !c.width || !c.height) return false;
            const px = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
            for (let i = 3; i < px.length; i += 4) if (px[i] !== 0) return true;
            return false;"""
        ),
        timeout=60,
        what="payments by method, painted",
    )
    w.step("backoffice-reports")

    # The demo's store server is the store's cloud, and the store has no hub: the panel says so.
    w.click("bo-tab-hub")
    w.text_has("hub-none", "não tem hub")
    w.step("backoffice-hub")

    w.click("bo-tab-catalog")
    w.wait(lambda: len(w.d.find_elements(*by_id("catalog-row"))) > 10, what="catalog rows")
    w.step("backoffice-catalog")
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
        f.write("sku,gtin,name,unit,price,ncm\n")
        f.write("E2E001,,Produto E2E Um,UN,3.50,19059090\n")
        f.write("E2E002,,Produto E2E Dois,UN,abc,19059090\n")
        f.write("E2E003,,Produto E2E Tres,UN,4.75,19059090\n")
        f.write("E2E004,123,Produto E2E Quatro,UN,1.00,19059090\n")
        csv_path = f.name
    # WebKitWebDriver cannot type a path into a file input, so the page is handed the file the
    # way a file chooser would: a File in the input's list, then its change event.
    with open(csv_path, encoding="utf-8") as f:
        csv_text = f.read()
    w.d.execute_script(
        """const [input, text] = arguments;
        const files = new DataTransfer();
        files.items.add(new File([text], "catalogo.csv", { type: "text/csv" }));
        input.files = files.files;
        input.dispatchEvent(new Event("change", { bubbles: true }));""",
        w.d.find_element(*by_id("catalog-import")),
        csv_text,
    )
    w.el("import-errors", 60)
    w.text_has("import-errors", "Linha 3")
    w.text_has("info", "2 produtos importados")
    w.step("csv-with-bad-rows")

    w.click("bo-tab-reports")
    w.el("reports")
    Select(w.el("language")).select_by_value("es")
    w.text_has("bo-sales-count", "ventas en el servidor")
    w.step("language-es")
    Select(w.el("language")).select_by_value("en")
    w.text_has("bo-sales-count", "sales on the server")
    w.step("language-en")

    # Last, as the owner now reads English: a setting no register would accept.
    w.click("bo-tab-settings")
    w.type("setting-policy.seller_discount_limit_bp", "-5")
    w.click("setting-save-policy.seller_discount_limit_bp")
    w.text_has("error", "is not accepted")
    assert w.el("setting-policy.seller_discount_limit_bp").get_attribute("value") == "-5", "the typed value is kept"
    w.step("setting-out-of-range")


if __name__ == "__main__":
    started = time.monotonic()
    try:
        main()
    except Exception as e:  # report and fail
        print(f"FAILED after {len(PASSED)} steps: {e!r}", flush=True)
        print(f"{len(PASSED)} passed, 1 failed")
        sys.exit(1)
    print(f"app e2e: {len(PASSED)} steps in {time.monotonic() - started:.0f} s; screenshots in {SHOTS}")
    print(f"{len(PASSED)} passed, 0 failed")
