import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import type { NoteToCorrect } from "../bindings/NoteToCorrect";
import { asUiError } from "../backend";
import { useBackend } from "../context";
import { errorText, inDialog, type WithManager } from "../state";
import { Dialog, Message } from "../ui";
import { NoteCorrectionForm } from "./NoteCorrectionForm";

/// SEFAZ's bounds for a justification (cancellation, inutilização).
export const JUSTIFICATION = { min: 15, max: 255 } as const;

/// Contiguous runs of numbers, as a person reads them: "3–5, 9".
export function numberRanges(numbers: number[]): string {
  const sorted = [...numbers].sort((a, b) => a - b);
  const runs: [number, number][] = [];
  for (const n of sorted) {
    const last = runs[runs.length - 1];
    if (last && n === last[1] + 1) last[1] = n;
    else runs.push([n, n]);
  }
  return runs.map(([a, b]) => (a === b ? `${a}` : `${a}–${b}`)).join(", ");
}

/// A manager's fiscal duties at the counter: notes SEFAZ rejected (reason, correct, resend) and
/// numbers reserved but never used (void them with SEFAZ).
export function FiscalNotes({ onClose, withManager }: { onClose: () => void; withManager: WithManager }) {
  const { t } = useTranslation();
  const backend = useBackend();
  const [notes, setNotes] = useState<NoteToCorrect[]>([]);
  const [unused, setUnused] = useState<number[]>([]);
  const [justification, setJustification] = useState("");
  const [correcting, setCorrecting] = useState<NoteToCorrect | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [info, setInfo] = useState<string | null>(null);
  const load = async () => {
    const [n, u] = await Promise.all([backend.notesToCorrect(), backend.unusedFiscalNumbers()]);
    setNotes(n);
    setUnused(u);
  };
  useEffect(() => {
    void load().catch((e) => setError(errorText(t, asUiError(e))));
  }, []);
  const guard = async (f: () => Promise<void>) => {
    try {
      await f();
      setError(null);
    } catch (e) {
      setInfo(null);
      setError(errorText(t, asUiError(e)));
    }
  };
  const managed = inDialog(withManager, (err) => {
    setInfo(null);
    setError(errorText(t, err));
  });
  const resend = () =>
    guard(async () => {
      const r = await backend.resendNotes();
      setInfo(t("fiscal.resent", { authorized: r.authorized, rejected: r.rejected, remaining: r.remaining }));
      await load();
    });
  const length = justification.trim().length;
  return (
    <Dialog title={t("fiscal.title")} onClose={onClose} wide testId="fiscal-notes">
      <Message error={error} info={info} />
      <h3>{t("fiscal.toCorrect")}</h3>
      {notes.length === 0 ? (
        <p data-testid="fiscal-none-to-correct">{t("fiscal.noneToCorrect")}</p>
      ) : (
        <table className="grid" data-testid="notes-to-correct">
          <thead>
            <tr>
              <th>{t("sales.note")}</th>
              <th>{t("fiscal.reason")}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {notes.map((n) => (
              <tr key={n.sale_id} data-testid="note-to-correct">
                <td>{n.number}</td>
                <td>
                  {n.code && <strong>{n.code} </strong>}
                  {n.reason ?? ""}
                </td>
                <td className="actions">
                  <button data-testid="correct-note" onClick={() => setCorrecting(n)}>
                    {t("fiscal.correct")}
                  </button>
                  <button
                    onClick={() =>
                      managed(t("fiscal.removeConsumer"), async (m) => {
                        await backend.correctNote(n.sale_id, [], "Remove", m);
                        await resend();
                      })
                    }
                  >
                    {t("fiscal.removeConsumer")}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {correcting && (
        <NoteCorrectionForm
          key={correcting.sale_id}
          note={correcting}
          onCancel={() => setCorrecting(null)}
          onSubmit={(lines, consumer) =>
            managed(t("fiscal.correctAndResend"), async (m) => {
              await backend.correctNote(correcting.sale_id, lines, consumer, m);
              setCorrecting(null);
              await resend();
            })
          }
        />
      )}
      <div className="buttons">
        <button data-testid="resend-notes" onClick={resend}>
          {t("fiscal.resend")}
        </button>
      </div>
      <h3>{t("fiscal.unused")}</h3>
      {unused.length === 0 ? (
        <p data-testid="fiscal-no-unused">{t("fiscal.noUnused")}</p>
      ) : (
        <>
          <p data-testid="unused-numbers">{t("fiscal.unusedNumbers", { numbers: numberRanges(unused) })}</p>
          <label>
            {t("fiscal.justification")}
            <textarea
              data-testid="void-justification"
              rows={2}
              maxLength={JUSTIFICATION.max}
              value={justification}
              onChange={(e) => setJustification(e.target.value)}
            />
          </label>
          <div className={length < JUSTIFICATION.min ? "muted bad" : "muted"}>{t("contingency.chars", { count: length })}</div>
          <div className="buttons">
            <button
              className="danger"
              data-testid="void-numbers"
              disabled={length < JUSTIFICATION.min}
              onClick={() =>
                managed(t("fiscal.voidNumbers"), async (m) => {
                  const ranges = await backend.voidUnusedNumbers(justification.trim(), m);
                  setInfo(t("fiscal.voided", { numbers: ranges.map((r) => (r.first === r.last ? `${r.first}` : `${r.first}–${r.last}`)).join(", ") }));
                  setJustification("");
                  setError(null);
                  await load();
                })
              }
            >
              {t("fiscal.voidNumbers")}
            </button>
          </div>
        </>
      )}
      <div className="buttons">
        <button onClick={onClose}>{t("sales.close")}</button>
      </div>
    </Dialog>
  );
}
