import { beforeAll, describe, expect, it } from "vitest";
import { act, fireEvent, render, screen, waitFor } from "@testing-library/react";
import i18n from "i18next";
import { initReactI18next } from "react-i18next";
import { App } from "../App";
import { BackendContext } from "../context";
import { resources } from "../i18n";
import { mockBackend } from "../mockBackend";

beforeAll(async () => {
  await i18n.use(initReactI18next).init({ resources, lng: "pt-BR", interpolation: { escapeValue: false } });
});

function type(testId: string, value: string) {
  fireEvent.change(screen.getByTestId(testId), { target: { value } });
}

describe("the counter, through the Backend interface", () => {
  it("signs in, refuses a wrong PIN and an unknown barcode, sells for cash with change", async () => {
    const backend = mockBackend();
    render(
      <BackendContext.Provider value={backend}>
        <App />
      </BackendContext.Provider>,
    );
    await screen.findByTestId("sign-in");
    // The demo's people are shown with their PINs.
    expect(screen.getByTestId("demo-users").textContent).toContain("1357");

    type("pin", "9999");
    fireEvent.click(screen.getByTestId("sign-in-submit"));
    expect((await screen.findByTestId("error")).textContent).toBe("PIN ou senha incorretos. Restam 4 tentativas.");

    type("pin", "1357");
    fireEvent.click(screen.getByTestId("sign-in-submit"));
    await screen.findByTestId("open-register");
    fireEvent.click(screen.getByTestId("open-register-submit"));
    // Opening the register needs a manager: the dialog asks, a wrong PIN is refused in place.
    await screen.findByTestId("manager-dialog");
    type("manager-pin", "0000");
    fireEvent.click(screen.getByTestId("manager-approve"));
    expect((await screen.findByTestId("error")).textContent).toBe("PIN ou senha incorretos. Restam 4 tentativas.");
    type("manager-pin", "2468");
    fireEvent.click(screen.getByTestId("manager-approve"));
    await screen.findByTestId("counter");

    type("scan", "0000000000000");
    fireEvent.keyDown(screen.getByTestId("scan"), { key: "Enter" });
    expect((await screen.findByTestId("error")).textContent).toBe("Nenhum produto com o código “0000000000000”.");
    // Nothing lost: the code stays for correction.
    expect((screen.getByTestId("scan") as HTMLInputElement).value).toBe("0000000000000");

    type("scan", "7891000000017");
    fireEvent.keyDown(screen.getByTestId("scan"), { key: "Enter" });
    await waitFor(() => expect(screen.getAllByTestId("ticket-line")).toHaveLength(1));
    expect(screen.getByTestId("ticket-total").textContent?.replace(/\s/g, " ")).toBe("R$ 24,90");

    // The seller cannot sign out with a ticket open.
    fireEvent.click(screen.getByTestId("sign-out"));
    expect((await screen.findByTestId("error")).textContent).toBe("Conclua ou abandone a venda aberta antes de sair.");

    await act(async () => {
      fireEvent.keyDown(window, { key: "F2" });
    });
    await screen.findByTestId("pay-dialog");
    type("pay-amount", "50,00");
    fireEvent.click(screen.getByTestId("pay-cash"));
    const receipt = await screen.findByTestId("receipt");
    expect(receipt.textContent).toContain("Troco: R$");
    expect(screen.getByTestId("receipt-change").textContent?.replace(/\s/g, " ")).toBe("Troco: R$ 25,10");
  });
});
