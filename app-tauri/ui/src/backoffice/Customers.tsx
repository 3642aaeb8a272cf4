import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import type { CustomerView } from "../bindings/server/CustomerView";
import { asUiError } from "../backend";
import { useBackend } from "../context";
import { formatMoney, parseMoney } from "../format";
import { errorText } from "../state";
import { Message } from "../ui";

export function Customers() {
  const { t } = useTranslation();
  const backend = useBackend();
  const [rows, setRows] = useState<CustomerView[]>([]);
  const [name, setName] = useState("");
  const [taxId, setTaxId] = useState("");
  const [limit, setLimit] = useState("0,00");
  const [edit, setEdit] = useState<CustomerView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [info, setInfo] = useState<string | null>(null);
  const money = (c: number) => formatMoney(c);
  const load = () => backend.boCustomers().then(setRows);
  useEffect(() => void load(), [backend]);
  return (
    <div data-testid="customers">
      <table className="grid">
        <thead>
          <tr>
            <th>{t("bo.customers.name")}</th>
            <th>{t("bo.customers.taxId")}</th>
            <th className="num">{t("bo.customers.limit")}</th>
            <th className="num">{t("bo.customers.balance")}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {rows.map((c) => (
            <tr key={c.id}>
              <td>{c.name}</td>
              <td>{c.tax_id ?? ""}</td>
              <td className="num">{money(c.overdraft_limit_cents)}</td>
              <td className="num">{money(c.balance_cents)}</td>
              <td>
                <button onClick={() => { setEdit(c); setName(c.name); setTaxId(c.tax_id ?? ""); setLimit(formatMoney(c.overdraft_limit_cents)); }}>✎</button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form
        className="inline-form"
        onSubmit={async (e) => {
          e.preventDefault();
          const cents = parseMoney(limit);
          if (cents === null || cents < 0) return setError(t("errors.invalid_input", { field: t("bo.customers.limit"), reason: limit }));
          try {
            await backend.boSaveCustomer({ id: edit?.id ?? null, name, tax_id: taxId.trim() || null, overdraft_limit: cents, version: edit?.version ?? null });
            setInfo(t("bo.customers.saved"));
            setError(null);
            setEdit(null);
            setName("");
            setTaxId("");
            await load();
          } catch (err) {
            setError(errorText(t, asUiError(err)));
          }
        }}
      >
        <input placeholder={t("bo.customers.name")} value={name} onChange={(e) => setName(e.target.value)} />
        <input placeholder={t("bo.customers.taxId")} value={taxId} onChange={(e) => setTaxId(e.target.value)} />
        <input placeholder={t("bo.customers.limit")} value={limit} onChange={(e) => setLimit(e.target.value)} />
        <button className="primary" type="submit">
          {edit ? t("bo.customers.save") : t("bo.customers.add")}
        </button>
      </form>
      <Message error={error} info={info} />
    </div>
  );
}
