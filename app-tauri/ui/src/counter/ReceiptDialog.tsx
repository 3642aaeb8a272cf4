import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import type { SaleOutcome } from "../bindings/SaleOutcome";
import { JUSTIFICATION } from "./FiscalNotes";
import { asUiError } from "../backend";
import { useBackend } from "../context";
import { formatDateTime, formatMoney } from "../format";
import { errorText, inDialog, type WithManager } from "../state";
import { Dialog, Message } from "../ui";

export function ReceiptDialog({ outcome, onClose, withManager }: { outcome: SaleOutcome; onClose: () => void; withManager: WithManager }) {
  const { t } = useTranslation();
  const backend = useBackend();
  const [png, setPng] = useState<string | null>(null);
  const [printed, setPrinted] = useState<{ ok: boolean; error: string | null }>({ ok: outcome.printed, error: outcome.print_error });
  const [error, setError] = useState<string | null>(null);
  // Cancelling the authorized note (110111), or another authorized note this one replaces
  // (110112): a justification (and that note's key), then a manager's approval.
  const [cancelling, setCancelling] = useState<null | "note" | "substitution">(null);
  const [justification, setJustification] = useState("");
  const [supersededKey, setSupersededKey] = useState("");
  const [cancelled, setCancelled] = useState(false);
  const [substituted, setSubstituted] = useState<string | null>(null);
  useEffect(() => {
    void backend.lastReceiptPng().then(setPng);
    const onKey = (e: KeyboardEvent) => {
      // Enter in a field (a justification, a manager's PIN) belongs to that field.
      if (e.key === "Enter" && !(e.target instanceof HTMLTextAreaElement || e.target instanceof HTMLInputElement)) {
        e.preventDefault();
        onClose();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [backend, onClose]);
  const note = outcome.note;
  return (
    <Dialog title={t("receipt.title")} onClose={onClose} wide testId="receipt">
      <div className="receipt-layout">
        <div className="receipt-facts">
          <h3>{t("receipt.saleNumber", { number: outcome.local_number })}</h3>
          <p className="big num" data-testid="receipt-total">{formatMoney(outcome.total)}</p>
          {outcome.change > 0 && <p data-testid="receipt-change">{t("receipt.change", { amount: formatMoney(outcome.change) })}</p>}
          {note && (
            <p data-testid="receipt-note">
              {t("receipt.note", { number: note.number, series: note.series })} — {t(`noteStatus.${note.status}` as "noteStatus.pending")}
              {note.contingency && note.deadline && (
                <>
                  <br />
                  {t("receipt.contingencyNote", { deadline: formatDateTime(note.deadline) })}
                </>
              )}
            </p>
          )}
          {cancelled && <p className="bad" data-testid="receipt-cancelled">{t("receipt.cancelled")}</p>}
          {substituted && (
            <p className="ok" data-testid="receipt-substituted">
              {t("receipt.substituted", { key: substituted })}
            </p>
          )}
          <p className={printed.ok ? "ok" : "bad"} data-testid="receipt-printed">
            {printed.ok ? t("receipt.printed") : t("receipt.notPrinted", { reason: printed.error ?? "" })}
          </p>
          <Message error={error} />
          <div className="buttons vertical">
            <button
              data-testid="reprint"
              onClick={async () => {
                try {
                  const r = await backend.reprint(outcome.sale_id);
                  setPrinted({ ok: r.printed, error: r.print_error });
                  setPng(await backend.lastReceiptPng());
                } catch (e) {
                  setError(errorText(t, asUiError(e)));
                }
              }}
            >
              {t("receipt.reprint")}
            </button>
            {note?.status === "authorized" && !cancelled && cancelling === null && (
              <>
                <button className="danger" data-testid="cancel-note" onClick={() => setCancelling("note")}>
                  {t("receipt.cancelNote")}
                </button>
                <button data-testid="cancel-substitution" onClick={() => setCancelling("substitution")}>
                  {t("receipt.substitution")}
                </button>
              </>
            )}
            {cancelling !== null && (
              <div className="cancel-note">
                {cancelling === "substitution" && (
                  <label>
                    {t("receipt.supersededKey")}
                    <input
                      data-testid="superseded-key"
                      inputMode="numeric"
                      className="wide"
                      maxLength={60}
                      value={supersededKey}
                      onChange={(e) => setSupersededKey(e.target.value)}
                    />
                  </label>
                )}
                <label>
                  {t("fiscal.justification")}
                  <textarea
                    data-testid="cancel-justification"
                    rows={2}
                    maxLength={JUSTIFICATION.max}
                    value={justification}
                    onChange={(e) => setJustification(e.target.value)}
                  />
                </label>
                <div className={justification.trim().length < JUSTIFICATION.min ? "muted bad" : "muted"}>
                  {t("contingency.chars", { count: justification.trim().length })}
                </div>
                <button
                  className="danger"
                  data-testid={cancelling === "note" ? "cancel-note-submit" : "cancel-substitution-submit"}
                  disabled={justification.trim().length < JUSTIFICATION.min}
                  onClick={() =>
                    inDialog(withManager, (err) => setError(errorText(t, err)))(
                      cancelling === "note" ? t("receipt.cancelNote") : t("receipt.substitution"),
                      async (m) => {
                        if (cancelling === "note") {
                          await backend.cancelNote(outcome.sale_id, justification.trim(), m);
                          setCancelled(true);
                        } else {
                          // Keys are often copied in groups of four; the digits are the key.
                          const key = supersededKey.replace(/\s/g, "");
                          const r = await backend.cancelBySubstitution(outcome.sale_id, key, justification.trim(), m);
                          setSubstituted(r.access_key);
                          setJustification("");
                          setSupersededKey("");
                        }
                        setCancelling(null);
                        setError(null);
                      },
                    )
                  }
                >
                  {cancelling === "note" ? t("receipt.confirmCancel") : t("receipt.confirmSubstitution")}
                </button>
                <button onClick={() => setCancelling(null)}>{t("fiscal.cancelCorrection")}</button>
              </div>
            )}
            <button className="primary" onClick={onClose} data-testid="new-sale">
              {t("receipt.newSale")}
            </button>
          </div>
        </div>
        {png && (
          <div className="receipt-paper">
            <img src={png} alt="DANFE NFC-e" data-testid="receipt-png" />
          </div>
        )}
      </div>
    </Dialog>
  );
}
