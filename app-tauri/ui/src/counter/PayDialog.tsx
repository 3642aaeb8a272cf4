import { useState } from "react";
import { useTranslation } from "react-i18next";
import type { CardKind } from "../bindings/CardKind";
import type { CardOfflineRisk } from "../bindings/CardOfflineRisk";
import type { PaymentRequest } from "../bindings/PaymentRequest";
import type { PosStatus } from "../bindings/PosStatus";
import type { SaleOutcome } from "../bindings/SaleOutcome";
import type { TicketView } from "../bindings/TicketView";
import { asUiError } from "../backend";
import { useBackend } from "../context";
import { formatMoney, parseMoney } from "../format";
import { cashPayment, errorText, paymentAmount, paymentProgress } from "../state";
import { AutoFocusInput, Dialog, Message } from "../ui";

export function PayDialog({ ticket, status, onCancel, onPaid }: { ticket: TicketView; status: PosStatus; onCancel: () => void; onPaid: (o: SaleOutcome) => void }) {
  const { t } = useTranslation();
  const backend = useBackend();
  const money = (c: number) => formatMoney(c);
  const [payments, setPayments] = useState<PaymentRequest[]>([]);
  const progress = paymentProgress(ticket.total, payments);
  const [amount, setAmount] = useState(formatMoney(ticket.total));
  const [error, setError] = useState<string | null>(null);
  const [risk, setRisk] = useState<{ risk: CardOfflineRisk; kind: CardKind; amount: number } | null>(null);
  const [busy, setBusy] = useState(false);

  const finish = async (all: PaymentRequest[]) => {
    setBusy(true);
    try {
      onPaid(await backend.checkout(all));
    } catch (e) {
      setError(errorText(t, asUiError(e)));
      setPayments([]);
      setAmount(formatMoney(ticket.total));
    } finally {
      setBusy(false);
    }
  };

  const add = async (p: PaymentRequest) => {
    const all = [...payments, p];
    const left = paymentProgress(ticket.total, all).remaining;
    setPayments(all);
    setAmount(formatMoney(left));
    setError(null);
    if (left === 0) await finish(all);
  };

  const typed = (): number | null => {
    const v = parseMoney(amount);
    if (v === null || v <= 0) {
      setError(t("errors.invalid_input", { field: t("pay.amount"), reason: amount }));
      return null;
    }
    return v;
  };

  const card = async (kind: CardKind) => {
    const v = typed();
    if (v === null) return;
    const value = Math.min(v, progress.remaining);
    if (status.link === "Offline") {
      try {
        const r = await backend.cardOfflineRisk(value);
        setRisk({ risk: r, kind, amount: value });
      } catch (e) {
        setError(errorText(t, asUiError(e)));
      }
      return;
    }
    await add({ Card: { amount: value, kind } });
  };

  const pix = async () => {
    const v = typed();
    if (v === null) return;
    if (status.link === "Offline") {
      const why = status.unavailable.find((u) => u.feature === "pix")?.reason ?? "";
      setError(t("pay.pixOffline", { why: t("offlineFeatures.pix") + (why ? ` — ${why}` : "") }));
      return;
    }
    await add({ Pix: { amount: Math.min(v, progress.remaining), txid: null } });
  };

  return (
    <Dialog title={t("pay.title")} onClose={onCancel} testId="pay-dialog">
      <div className="pay-summary">
        <div>
          {t("pay.due")}: <strong className="num">{money(ticket.total)}</strong>
        </div>
        <div>
          {t("pay.remaining")}: <strong className="num" data-testid="pay-remaining">{money(progress.remaining)}</strong>
        </div>
      </div>
      {payments.length > 0 && (
        <ul className="payments" data-testid="payments">
          {payments.map((p, i) => (
            <li key={i}>
              {"Cash" in p ? t("pay.cash") : "Card" in p ? `${t("pay.card")} ${p.Card.kind === "credit" ? t("pay.credit") : t("pay.debit")}` : "Pix" in p ? t("pay.pix") : t("pay.account")}{" "}
              <span className="num">{money(paymentAmount(p))}</span>
            </li>
          ))}
        </ul>
      )}
      {!risk ? (
        <form
          onSubmit={async (e) => {
            e.preventDefault();
            const v = typed();
            if (v !== null) await add(cashPayment(progress.remaining, v));
          }}
        >
          <label>
            {t("pay.amount")} / {t("pay.tendered")}
            <AutoFocusInput data-testid="pay-amount" value={amount} onChange={(e) => setAmount(e.target.value)} />
          </label>
          <div className="buttons">
            <button type="submit" className="primary" disabled={busy} data-testid="pay-cash">
              {t("pay.cash")} (Enter)
            </button>
            <button type="button" disabled={busy} onClick={() => void card("credit")} data-testid="pay-card-credit">
              {t("pay.card")} {t("pay.credit")}
            </button>
            <button type="button" disabled={busy} onClick={() => void card("debit")} data-testid="pay-card-debit">
              {t("pay.card")} {t("pay.debit")}
            </button>
            <button type="button" disabled={busy} onClick={() => void pix()} data-testid="pay-pix">
              {t("pay.pix")}
            </button>
            {ticket.customer_id && (
              <button
                type="button"
                disabled={busy}
                data-testid="pay-account"
                onClick={() => {
                  const v = typed();
                  if (v !== null) void add({ CustomerAccount: { amount: Math.min(v, progress.remaining) } });
                }}
              >
                {t("pay.account")}
              </button>
            )}
            <button type="button" onClick={onCancel}>
              {t("pay.cancel")}
            </button>
          </div>
        </form>
      ) : (
        <div className="risk" data-testid="card-risk">
          <h3>{t("pay.offlineRiskTitle")}</h3>
          <p>{risk.risk.notice}</p>
          <p className="muted">
            {t("pay.riskLimits", {
              perPayment: money(risk.risk.per_payment_limit),
              pending: money(risk.risk.pending_total),
              total: money(risk.risk.total_pending_limit),
            })}
          </p>
          {risk.risk.allowed ? (
            <div className="buttons">
              <button
                className="primary"
                data-testid="accept-risk"
                onClick={async () => {
                  try {
                    await backend.acceptCardOfflineRisk();
                    const r = risk;
                    setRisk(null);
                    await add({ Card: { amount: r.amount, kind: r.kind } });
                  } catch (e) {
                    setError(errorText(t, asUiError(e)));
                  }
                }}
              >
                {t("pay.acceptRisk")}
              </button>
              <button onClick={() => setRisk(null)}>{t("pay.cancel")}</button>
            </div>
          ) : (
            <Message error={risk.risk.refusal ?? ""} />
          )}
        </div>
      )}
      <Message error={error} />
      {progress.change > 0 && (
        <div className="change">
          {t("pay.change")}: <span className="num">{money(progress.change)}</span>
        </div>
      )}
    </Dialog>
  );
}
