import { beforeAll, describe, expect, it } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import i18n from "i18next";
import { initReactI18next } from "react-i18next";
import type { ConsumerCorrection } from "../bindings/ConsumerCorrection";
import type { LineFiscalCorrection } from "../bindings/LineFiscalCorrection";
import type { NoteToCorrect } from "../bindings/NoteToCorrect";
import { FiscalNotes } from "../counter/FiscalNotes";
import { BackendContext } from "../context";
import { resources } from "../i18n";
import { mockBackend } from "../mockBackend";

beforeAll(async () => {
  await i18n.use(initReactI18next).init({ resources, lng: "pt-BR", interpolation: { escapeValue: false } });
});

const fiscal = {
  ncm: "19052090",
  cfop: "5102",
  cest: null,
  origin: 0,
  icms: { regime: "csosn", code: "102" },
  icms_rate_bp: 0,
  pis_cst: "49",
  pis_rate_bp: 0,
  cofins_cst: "49",
  cofins_rate_bp: 0,
} as const;

const rejected: NoteToCorrect = {
  sale_id: "0190a0b0-0000-7000-8000-000000000001",
  number: 7,
  access_key: "35261206157250000116650010000000071000000070",
  code: "778",
  reason: "Rejeição: NCM inexistente",
  lines: [
    { line: 0, sku: "PAO", name: "Pão Francês", fiscal },
    { line: 1, sku: "LEITE", name: "Leite Integral 1L", fiscal: { ...fiscal, ncm: "04012010" } },
  ],
};

describe("correcting a note SEFAZ rejected", () => {
  it("sends only the changed line's codes, shows the core's refusal in Portuguese, then resends", async () => {
    const backend = mockBackend();
    const sent: { lines: LineFiscalCorrection[]; consumer: ConsumerCorrection }[] = [];
    let resent = 0;
    backend.notesToCorrect = async () => (resent === 0 ? [rejected] : []);
    backend.correctNote = async (_sale, lines, consumer) => {
      sent.push({ lines, consumer });
      // The core checks the codes; the first try carries a 7-digit NCM.
      if (lines.some((l) => l.fiscal.ncm.length !== 8))
        throw { code: "invalid_input", fields: { field: "lines[0].ncm", reason: "must be 8 digits" }, message: "" };
      return { sale_id: rejected.sale_id, number: 7, series: 1, access_key: rejected.access_key } as never;
    };
    backend.resendNotes = async () => {
      resent += 1;
      return { authorized: 1, rejected: 0, remaining: 0, sefaz_available: true } as never;
    };
    render(
      <BackendContext.Provider value={backend}>
        <FiscalNotes onClose={() => {}} withManager={(_label, run) => run(null)} />
      </BackendContext.Provider>,
    );
    fireEvent.click(await screen.findByTestId("correct-note"));
    expect(screen.getAllByTestId("correction-line")).toHaveLength(2);
    // The note's own codes are shown to be corrected.
    expect((screen.getByTestId("correction-ncm-1") as HTMLInputElement).value).toBe("04012010");

    fireEvent.change(screen.getByTestId("correction-ncm-0"), { target: { value: "1905909" } });
    fireEvent.click(screen.getByTestId("correction-submit"));
    expect((await screen.findByTestId("error")).textContent).toBe("Linha 1: o NCM tem 8 dígitos.");
    // Nothing lost: the form stays open with what was typed.
    expect((screen.getByTestId("correction-ncm-0") as HTMLInputElement).value).toBe("1905909");

    fireEvent.change(screen.getByTestId("correction-ncm-0"), { target: { value: "19059090" } });
    fireEvent.click(screen.getByTestId("correction-consumer-remove"));
    fireEvent.click(screen.getByTestId("correction-submit"));
    await waitFor(() => expect(resent).toBe(1));
    const last = sent[sent.length - 1];
    expect(last.lines).toEqual([{ line: 0, fiscal: { ...fiscal, ncm: "19059090" } }]);
    expect(last.consumer).toBe("Remove");
    await screen.findByTestId("fiscal-none-to-correct");
    expect(screen.queryByTestId("note-correction")).toBeNull();
  });
});
