import { useState } from "react";
import { useTranslation } from "react-i18next";
import type { ConsumerCorrection } from "../bindings/ConsumerCorrection";
import type { LineFiscalCorrection } from "../bindings/LineFiscalCorrection";
import type { NoteToCorrect } from "../bindings/NoteToCorrect";

/// The codes a manager corrects on a rejected note's line; the rest of its fiscal data stays.
interface LineCodes {
  ncm: string;
  cfop: string;
  cest: string;
}

/// The codes' columns, with their lengths in digits.
const CODES: { field: keyof LineCodes; digits: number }[] = [
  { field: "ncm", digits: 8 },
  { field: "cfop", digits: 4 },
  { field: "cest", digits: 7 },
];

type ConsumerChoice = "keep" | "remove" | "set";

/// A rejected note's correction: each line's NCM, CFOP and CEST as the note carries them, and
/// the consumer's CPF/CNPJ kept, removed or replaced. Only the lines whose codes changed are
/// sent; the core checks them (and says which field of which line is wrong).
export function NoteCorrectionForm({
  note,
  onSubmit,
  onCancel,
}: {
  note: NoteToCorrect;
  onSubmit: (lines: LineFiscalCorrection[], consumer: ConsumerCorrection) => void;
  onCancel: () => void;
}) {
  const { t } = useTranslation();
  const [codes, setCodes] = useState<LineCodes[]>(() =>
    note.lines.map((l) => ({ ncm: l.fiscal.ncm, cfop: l.fiscal.cfop, cest: l.fiscal.cest ?? "" })),
  );
  const [consumer, setConsumer] = useState<ConsumerChoice>("keep");
  const [taxId, setTaxId] = useState("");
  const edit = (i: number, field: keyof LineCodes, value: string) =>
    setCodes((all) => all.map((c, j) => (j === i ? { ...c, [field]: value.trim() } : c)));
  const submit = () => {
    const lines: LineFiscalCorrection[] = note.lines.flatMap((l, i) => {
      const c = codes[i];
      const cest = c.cest === "" ? null : c.cest;
      if (c.ncm === l.fiscal.ncm && c.cfop === l.fiscal.cfop && cest === l.fiscal.cest) return [];
      return [{ line: l.line, fiscal: { ...l.fiscal, ncm: c.ncm, cfop: c.cfop, cest } }];
    });
    const correction: ConsumerCorrection =
      consumer === "keep" ? "Keep" : consumer === "remove" ? "Remove" : { Set: { tax_id: taxId.trim() } };
    onSubmit(lines, correction);
  };
  return (
    <div className="correction" data-testid="note-correction">
      <h3>{t("fiscal.correctTitle", { number: note.number })}</h3>
      <table className="grid">
        <thead>
          <tr>
            <th>#</th>
            <th>{t("fiscal.product")}</th>
            {CODES.map(({ field }) => (
              <th key={field}>{field.toUpperCase()}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {note.lines.map((l, i) => (
            <tr key={l.line} data-testid="correction-line">
              <td>{l.line + 1}</td>
              <td>
                {l.name} <span className="muted">{l.sku}</span>
              </td>
              {CODES.map(({ field, digits }) => (
                <td key={field}>
                  <input
                    data-testid={`correction-${field}-${l.line}`}
                    inputMode="numeric"
                    maxLength={digits}
                    size={digits + 2}
                    value={codes[i][field]}
                    placeholder={field === "cest" ? t("fiscal.noCest") : undefined}
                    onChange={(e) => edit(i, field, e.target.value)}
                  />
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      <fieldset className="consumer-choice">
        <legend>{t("fiscal.consumer")}</legend>
        {(["keep", "remove", "set"] as const).map((choice) => (
          <label key={choice}>
            <input
              type="radio"
              name="consumer"
              data-testid={`correction-consumer-${choice}`}
              checked={consumer === choice}
              onChange={() => setConsumer(choice)}
            />
            {t(`fiscal.consumer_${choice}`)}
          </label>
        ))}
        {consumer === "set" && (
          <input
            data-testid="correction-tax-id"
            placeholder={t("fiscal.taxIdPlaceholder")}
            value={taxId}
            onChange={(e) => setTaxId(e.target.value)}
          />
        )}
      </fieldset>
      <div className="buttons">
        <button onClick={onCancel}>{t("fiscal.cancelCorrection")}</button>
        <button className="primary" data-testid="correction-submit" onClick={submit}>
          {t("fiscal.correctAndResend")}
        </button>
      </div>
    </div>
  );
}
