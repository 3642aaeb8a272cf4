import { beforeAll, describe, expect, it } from "vitest";
import { fireEvent, render, screen } from "@testing-library/react";
import i18n from "i18next";
import { initReactI18next } from "react-i18next";
import type { SaleOutcome } from "../bindings/SaleOutcome";
import { ReceiptDialog } from "../counter/ReceiptDialog";
import { BackendContext } from "../context";
import { resources } from "../i18n";
import { mockBackend } from "../mockBackend";

beforeAll(async () => {
  await i18n.use(initReactI18next).init({ resources, lng: "pt-BR", interpolation: { escapeValue: false } });
});

const OWN_KEY = "35261206157250000116650010000000121000000129";
const SUPERSEDED = "3526 1206 1572 5000 0116 6500 1000 0000 1110 0000 0112";

const outcome: SaleOutcome = {
  sale_id: "0190a0b0-0000-7000-8000-000000000012",
  local_number: 12,
  total: 2790,
  change: 0,
  note: { number: 12, series: 1, access_key: OWN_KEY, status: "authorized", contingency: false, deadline: null, qr_code: "" },
  receipt_bytes: 512,
  printed: true,
  print_error: null,
};

function type(testId: string, value: string) {
  fireEvent.change(screen.getByTestId(testId), { target: { value } });
}

describe("cancelling by substitution from an authorized note's receipt", () => {
  it("sends the replaced note's digits, shows a bad key's refusal in Portuguese, then confirms", async () => {
    const backend = mockBackend();
    const asked: { key: string; justification: string }[] = [];
    backend.lastReceiptPng = async () => "";
    backend.cancelBySubstitution = async (sale, key, justification) => {
      asked.push({ key, justification });
      // The core parses the key; the first try is a digit short.
      if (key.length !== 44) throw { code: "invalid_input", fields: { field: "superseded_access_key", reason: "44 digits" }, message: "" };
      return { sale_id: sale, access_key: key, protocol: "135260000000001", status_code: 135 };
    };
    render(
      <BackendContext.Provider value={backend}>
        <ReceiptDialog outcome={outcome} onClose={() => {}} withManager={(_label, run) => run(null)} />
      </BackendContext.Provider>,
    );
    fireEvent.click(screen.getByTestId("cancel-substitution"));
    type("superseded-key", SUPERSEDED.slice(0, -1));
    type("cancel-justification", "curta");
    // SEFAZ wants 15 characters at least: the button waits for them.
    expect((screen.getByTestId("cancel-substitution-submit") as HTMLButtonElement).disabled).toBe(true);
    type("cancel-justification", "Nota emitida em duplicidade no caixa");
    fireEvent.click(screen.getByTestId("cancel-substitution-submit"));
    expect((await screen.findByTestId("error")).textContent).toBe(
      "Essa não é uma chave de acesso válida: são 44 dígitos, o último verificador.",
    );
    // Nothing lost: the key and the justification stay for correction.
    expect((screen.getByTestId("superseded-key") as HTMLInputElement).value).toBe(SUPERSEDED.slice(0, -1));

    type("superseded-key", SUPERSEDED);
    fireEvent.click(screen.getByTestId("cancel-substitution-submit"));
    const done = await screen.findByTestId("receipt-substituted");
    const digits = SUPERSEDED.replace(/\s/g, "");
    expect(done.textContent).toBe(`A NFC-e ${digits} foi cancelada por substituição por esta.`);
    expect(asked[asked.length - 1]).toEqual({ key: digits, justification: "Nota emitida em duplicidade no caixa" });
    // The sale's own note is still authorized: it can still be cancelled itself.
    expect(screen.getByTestId("cancel-note")).toBeTruthy();
  });
});
