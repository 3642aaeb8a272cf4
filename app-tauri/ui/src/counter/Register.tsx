import { useState } from "react";
import { useTranslation } from "react-i18next";
import type { ClosingReport } from "../bindings/ClosingReport";
import type { CountedAmount } from "../bindings/CountedAmount";
import type { PaymentKind } from "../bindings/PaymentKind";
import type { RegisterView } from "../bindings/RegisterView";
import { asUiError } from "../backend";
import { useBackend } from "../context";
import { formatMoney, parseMoney } from "../format";
import { errorText, type WithManager } from "../state";
import { Dialog, Message } from "../ui";

export function OpenRegister({ onOpened, withManager, error }: { onOpened: (s: RegisterView) => void; withManager: WithManager; error: string | null }) {
  const { t } = useTranslation();
  const backend = useBackend();
  const [float, setFloat] = useState("150,00");
  const [local, setLocal] = useState<string | null>(null);
  return (
    <div className="center-card" data-testid="open-register">
      <h1>{t("register.openTitle")}</h1>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const cents = parseMoney(float);
          if (cents === null) {
            setLocal(t("errors.invalid_input", { field: t("register.float"), reason: float }));
            return;
          }
          await withManager(t("register.openTitle"), async (m) => onOpened(await backend.openRegister(cents, m)));
        }}
      >
        <label>
          {t("register.float")}
          <input data-testid="float" value={float} onChange={(e) => setFloat(e.target.value)} autoFocus />
        </label>
        <button className="primary" type="submit" data-testid="open-register-submit">
          {t("register.open")}
        </button>
      </form>
      <Message error={local ?? error} />
    </div>
  );
}

export function CloseRegister({ session, withManager, onClose }: { session: RegisterView; withManager: WithManager; onClose: (closed: boolean) => void }) {
  const { t } = useTranslation();
  const backend = useBackend();
  // Every kind the register tallies, in the core's order: counted blind, the expected figures
  // appear only in the report.
  const kinds: PaymentKind[] = session.taken.map((k) => k.kind);
  const [counted, setCounted] = useState<Record<string, string>>({});
  const [report, setReport] = useState<ClosingReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  const money = (c: number) => formatMoney(c);
  const submit = async () => {
    const amounts: CountedAmount[] = [];
    for (const k of kinds) {
      const text = (counted[k] ?? "").trim();
      // The drawer's cash is always counted; a kind left blank is taken as expected by the
      // core (nothing physical to count for an account sale), never as zero.
      if (text === "") {
        if (k === "Cash") {
          setError(t("register.countCash"));
          return;
        }
        continue;
      }
      const v = parseMoney(text);
      if (v === null) {
        setError(t("errors.invalid_input", { field: t(`kinds.${k}`), reason: text }));
        return;
      }
      amounts.push({ kind: k, amount: v });
    }
    try {
      await withManager(t("register.closeTitle"), async (m) => setReport(await backend.closeRegister(amounts, m)));
    } catch (e) {
      setError(errorText(t, asUiError(e)));
    }
  };
  return (
    <Dialog title={t("register.closeTitle")} onClose={() => onClose(report !== null)} testId="close-register">
      {!report ? (
        <>
          <p className="muted">
            {t("register.sales", { count: session.sales_count })} · {t("register.floatShort")} {money(session.float)}
          </p>
          <table className="grid">
            <thead>
              <tr>
                <th>{t("register.kind")}</th>
                <th>{t("register.counted")}</th>
              </tr>
            </thead>
            <tbody>
              {kinds.map((k) => (
                <tr key={k}>
                  <td>{t(`kinds.${k}`)}</td>
                  <td>
                    <input data-testid={`counted-${k}`} value={counted[k] ?? ""} onChange={(e) => setCounted({ ...counted, [k]: e.target.value })} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="muted">{t("register.blankAsExpected")}</p>
          <Message error={error} />
          <div className="buttons">
            <button onClick={() => onClose(false)}>{t("pay.cancel")}</button>
            <button className="primary" onClick={() => void submit()} data-testid="close-register-submit">
              {t("register.close")}
            </button>
          </div>
        </>
      ) : (
        <>
          <table className="grid" data-testid="closing-report">
            <thead>
              <tr>
                <th>{t("register.kind")}</th>
                <th className="num">{t("register.expected")}</th>
                <th className="num">{t("register.counted")}</th>
                <th className="num">{t("register.difference")}</th>
              </tr>
            </thead>
            <tbody>
              {report.lines.map((l) => (
                <tr key={l.kind}>
                  <td>{t(`kinds.${l.kind}`)}</td>
                  <td className="num">{money(l.expected)}</td>
                  <td className="num">{money(l.counted)}</td>
                  <td className={l.difference === 0 ? "num" : "num bad"}>{money(l.difference)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p>{t("register.closed", { amount: money(report.total_difference) })}</p>
          <div className="buttons">
            <button className="primary" onClick={() => onClose(true)} data-testid="close-register-done">
              OK
            </button>
          </div>
        </>
      )}
    </Dialog>
  );
}
