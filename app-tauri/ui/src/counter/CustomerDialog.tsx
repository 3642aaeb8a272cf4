import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import type { CustomerView as Customer } from "../bindings/CustomerView";
import { asUiError } from "../backend";
import { useBackend } from "../context";
import { formatMoney, formatTime } from "../format";
import { errorText } from "../state";
import { AutoFocusInput, Dialog, Message } from "../ui";

/// Picks the customer whose account may pay: their last-known balance and how old it is (the
/// register's last sync with the server).
export function CustomerDialog({ lastSync, onPicked, onCancel }: { lastSync: string | null; onPicked: (c: Customer | null) => void; onCancel: () => void }) {
  const { t } = useTranslation();
  const backend = useBackend();
  const [text, setText] = useState("");
  const [rows, setRows] = useState<Customer[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (text.trim().length < 2) return setRows([]);
    void backend.searchCustomers(text).then(setRows, (e) => setError(errorText(t, asUiError(e))));
  }, [text, backend]);
  const pick = async (c: Customer | null) => {
    try {
      onPicked(await backend.setCustomer(c ? c.id : null));
    } catch (e) {
      setError(errorText(t, asUiError(e)));
    }
  };
  return (
    <Dialog title={t("customer.title")} onClose={onCancel} testId="customer-dialog">
      <AutoFocusInput className="full" data-testid="customer-search" placeholder={t("customer.search")} value={text} onChange={(e) => setText(e.target.value)} />
      <p className="muted">{lastSync ? t("customer.balanceAsOf", { time: formatTime(lastSync) }) : t("customer.balanceUnknownAge")}</p>
      <table className="grid">
        <tbody>
          {rows.map((c) => (
            <tr key={c.id} className="clickable" onClick={() => void pick(c)} data-testid="customer-row">
              <td>{c.name}</td>
              <td>{c.tax_id ?? ""}</td>
              <td className={c.balance < 0 ? "num bad" : "num"}>{formatMoney(c.balance)}</td>
              <td className="num muted">
                {t("customer.limit")} {formatMoney(c.overdraft_limit)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <Message error={error} />
      <div className="buttons">
        <button onClick={() => void pick(null)}>{t("customer.none")}</button>
        <button onClick={onCancel}>{t("manager.cancel")}</button>
      </div>
    </Dialog>
  );
}
