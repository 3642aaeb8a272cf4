import { beforeAll, describe, expect, it } from "vitest";
import { fireEvent, render, screen } from "@testing-library/react";
import i18n from "i18next";
import { initReactI18next } from "react-i18next";
import type { CountedAmount } from "../bindings/CountedAmount";
import type { RegisterView } from "../bindings/RegisterView";
import { CloseRegister } from "../counter/Register";
import { BackendContext } from "../context";
import { resources } from "../i18n";
import { formatMoney } from "../format";
import { mockBackend } from "../mockBackend";

beforeAll(async () => {
  await i18n.use(initReactI18next).init({ resources, lng: "pt-BR", interpolation: { escapeValue: false } });
});

// The register as the core lists it: R$ 100,00 float, a R$ 58,92 cash sale, R$ 12,00 on account.
const register: RegisterView = {
  id: "0190a0b0-0000-7000-8000-0000000000b1",
  opened_by: "0190a0b0-0000-7000-8000-0000000000a1",
  opened_at: "2026-12-06T12:00:00Z",
  float: 10000,
  cash_in: 0,
  cash_out: 0,
  sales_count: 2,
  expected_cash: 15892,
  taken: [
    { kind: "Cash", amount: 5892 },
    { kind: "Card", amount: 0 },
    { kind: "Pix", amount: 0 },
    { kind: "CustomerAccount", amount: 1200 },
  ],
};

describe("closing the register", () => {
  it("asks for the cash, sends only what was counted, and shows the core's report", async () => {
    const backend = mockBackend();
    const sent: CountedAmount[][] = [];
    backend.closeRegister = async (counted) => {
      sent.push(counted);
      // The core's rule: a kind not counted is taken as expected.
      return {
        float: 10000,
        cash_in: 0,
        cash_out: 0,
        sales_count: 2,
        lines: [
          { kind: "Cash", expected: 15892, counted: 15800, difference: -92 },
          { kind: "Card", expected: 0, counted: 0, difference: 0 },
          { kind: "Pix", expected: 0, counted: 0, difference: 0 },
          { kind: "CustomerAccount", expected: 1200, counted: 1200, difference: 0 },
        ],
        total_difference: -92,
      };
    };
    render(
      <BackendContext.Provider value={backend}>
        <CloseRegister session={register} withManager={(_label, run) => run(null)} onClose={() => {}} />
      </BackendContext.Provider>,
    );
    // Every kind the core lists has its field, in its order.
    expect(screen.getAllByTestId(/^counted-/).map((e) => e.dataset.testid)).toEqual([
      "counted-Cash",
      "counted-Card",
      "counted-Pix",
      "counted-CustomerAccount",
    ]);
    // The drawer's cash must be counted: a blank cash field is refused, nothing sent.
    fireEvent.click(screen.getByTestId("close-register-submit"));
    expect((await screen.findByTestId("error")).textContent).toBe("Conte o dinheiro da gaveta antes de fechar.");
    expect(sent).toEqual([]);
    // Cash counted, the rest left blank: only the cash goes, the rest is taken as expected
    // (an account sale would otherwise show as a R$ 12,00 shortfall).
    fireEvent.change(screen.getByTestId("counted-Cash"), { target: { value: "158,00" } });
    fireEvent.click(screen.getByTestId("close-register-submit"));
    const report = await screen.findByTestId("closing-report");
    expect(sent).toEqual([[{ kind: "Cash", amount: 15800 }]]);
    expect(report.textContent).toContain(formatMoney(-92));
    expect(formatMoney(-92)).toMatch(/^-R\$\s0,92$/);
  });
});
