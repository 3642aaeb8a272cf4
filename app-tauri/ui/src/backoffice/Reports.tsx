import { useEffect, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import type { RegisterReports } from "../bindings/RegisterReports";
import type { OverdraftItem } from "../bindings/server/OverdraftItem";
import type { OversoldItem } from "../bindings/server/OversoldItem";
import type { SaleView } from "../bindings/server/SaleView";
import { asUiError } from "../backend";
import { useBackend } from "../context";
import { formatDateTime, formatDayMonth, formatMoney, formatNumber, formatQuantity } from "../format";
import { salesPerDay, salesPerHour } from "../reports";
import { errorText } from "../state";
import { Message } from "../ui";
import { Chart } from "./Chart";
import type { OwnerSession } from "./BackOffice";

export function Reports({ owner }: { owner: OwnerSession }) {
  const { t, i18n } = useTranslation();
  const backend = useBackend();
  const [sales, setSales] = useState<SaleView[]>([]);
  const [oversold, setOversold] = useState<OversoldItem[]>([]);
  const [overdraft, setOverdraft] = useState<OverdraftItem[]>([]);
  const [register, setRegister] = useState<RegisterReports | null>(null);
  const [error, setError] = useState<string | null>(null);
  const money = (c: number) => formatMoney(c);
  useEffect(() => {
    (async () => {
      try {
        setSales(await backend.boSales());
        setOversold(await backend.boOversold());
        setOverdraft(await backend.boOverdraft());
        setRegister(await backend.registerReports({ login: owner.login, password: owner.password }));
      } catch (e) {
        setError(errorText(t, asUiError(e)));
      }
    })();
  }, [backend]);

  const perHour = useMemo(() => salesPerHour(sales, new Date()), [sales]);
  const perDay = useMemo(() => salesPerDay(sales, new Date(), 14), [sales]);
  const total = sales.reduce((s, v) => s + v.total_cents, 0);
  const moneyAxis = { type: "value" as const, axisLabel: { formatter: (v: number) => money(v) } };
  const byMethod = useMemo(() => {
    const sums = new Map<string, number>();
    for (const r of register?.sales_by_method ?? []) sums.set(r.kind, (sums.get(r.kind) ?? 0) + r.amount);
    return [...sums].map(([k, v]) => ({ name: t(`kinds.${k}` as "kinds.Cash"), value: v }));
  }, [register, i18n.language]);
  const notes = register?.contingency_notes ?? [];
  const now = Date.now();

  return (
    <div className="reports" data-testid="reports">
      <Message error={error} />
      <p data-testid="bo-sales-count">{t("bo.reports.salesCount", { count: sales.length, total: money(total) })}</p>
      <div className="charts">
        <section>
          <h3>{t("bo.reports.salesPerHour")}</h3>
          <Chart
            testId="chart-hour"
            option={{
              animation: false,
              tooltip: { trigger: "axis", valueFormatter: (v) => money(Number(v)) },
              xAxis: { type: "category", data: perHour.cents.map((_, h) => `${h}h`) },
              yAxis: moneyAxis,
              series: [{ type: "bar", data: perHour.cents, itemStyle: { color: "#1f7a4d" } }],
              grid: { left: 10, right: 10, top: 10, bottom: 10, containLabel: true },
            }}
          />
        </section>
        <section>
          <h3>{t("bo.reports.salesPerDay")}</h3>
          <Chart
            testId="chart-day"
            option={{
              animation: false,
              tooltip: { trigger: "axis", valueFormatter: (v) => money(Number(v)) },
              xAxis: { type: "category", data: perDay.days.map((d) => formatDayMonth(d)) },
              yAxis: moneyAxis,
              series: [{ type: "bar", data: perDay.cents, itemStyle: { color: "#2d6cdf" } }],
              grid: { left: 10, right: 10, top: 10, bottom: 10, containLabel: true },
            }}
          />
        </section>
        <section>
          <h3>{t("bo.reports.byMethod")}</h3>
          {/* This device's own reports come after the owner's password is checked: until then,
              and when there is nothing, a word instead of an empty ring. */}
          {register === null ? (
            <p className="muted" data-testid="method-loading">{t("bo.reports.loading")}</p>
          ) : byMethod.length === 0 ? (
            <p className="muted">{t("bo.reports.none")}</p>
          ) : (
            <Chart
              testId="chart-method"
              option={{
                animation: false,
                tooltip: { trigger: "item", valueFormatter: (v) => money(Number(v)) },
                legend: { bottom: 0 },
                series: [{ type: "pie", radius: ["35%", "65%"], data: byMethod, label: { lineHeight: 16, formatter: (p: { name: string; value: unknown }) => `${p.name}\n${money(Number(p.value))}` } }],
              }}
            />
          )}
        </section>
        <section>
          <h3>{t("bo.reports.backlog")}</h3>
          <Chart
            testId="chart-backlog"
            option={{
              animation: false,
              tooltip: { trigger: "axis" },
              legend: { bottom: 0 },
              xAxis: { type: "category", data: notes.map((n) => String(n.number)) },
              yAxis: { type: "value", name: "min", axisLabel: { formatter: (v: number) => formatNumber(v) } },
              series: [
                {
                  name: t("bo.reports.authorized"),
                  type: "bar",
                  stack: "a",
                  data: notes.map((n) => (n.authorized_at ? Math.round((new Date(n.authorized_at).getTime() - new Date(n.emitted_at).getTime()) / 60000) : 0)),
                  itemStyle: { color: "#1f7a4d" },
                },
                {
                  name: t("bo.reports.deadline"),
                  type: "line",
                  data: notes.map((n) => Math.round((new Date(n.deadline).getTime() - Math.min(now, new Date(n.authorized_at ?? now).getTime())) / 60000)),
                  itemStyle: { color: "#d08000" },
                },
              ],
              grid: { left: 10, right: 10, top: 24, bottom: 36, containLabel: true },
            }}
          />
          <table className="grid small">
            <thead>
              <tr>
                <th>NFC-e</th>
                <th>{t("bo.reports.emitted")}</th>
                <th>{t("bo.reports.deadline")}</th>
                <th>{t("bo.reports.authorized")}</th>
              </tr>
            </thead>
            <tbody>
              {notes.map((n) => (
                <tr key={n.access_key}>
                  <td>{n.number}</td>
                  <td>{formatDateTime(n.emitted_at)}</td>
                  <td>{formatDateTime(n.deadline)}</td>
                  <td>
                    {n.authorized_at ? formatDateTime(n.authorized_at) : n.status}
                    {n.status_code === 150 && ` (${t("bo.reports.late")})`}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      </div>
      <div className="two">
        <section>
          <h3>{t("bo.reports.oversold")}</h3>
          {oversold.length === 0 ? (
            <p className="muted">{t("bo.reports.none")}</p>
          ) : (
            <ul>
              {oversold.map((o) => (
                <li key={o.branch_id + o.product_id}>
                  {o.product_name ?? o.product_id}: {formatQuantity(o.quantity)}
                </li>
              ))}
            </ul>
          )}
        </section>
        <section>
          <h3>{t("bo.reports.overdraft")}</h3>
          {overdraft.length === 0 ? (
            <p className="muted">{t("bo.reports.none")}</p>
          ) : (
            <ul>
              {overdraft.map((o) => (
                <li key={o.customer_id}>
                  {o.customer_name ?? o.customer_id}: {money(o.balance_cents)} / {money(o.overdraft_limit_cents)}
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
      <section>
        <h3>{t("bo.tabs.reports")}</h3>
        <table className="grid small" data-testid="bo-sales">
          <thead>
            <tr>
              <th>#</th>
              <th>{t("bo.reports.recordedAt")}</th>
              <th className="num">{t("bo.reports.amount")}</th>
              <th>{t("bo.reports.status")}</th>
            </tr>
          </thead>
          <tbody>
            {sales.slice(-50).reverse().map((s) => (
              <tr key={s.id} data-testid="bo-sale-row">
                <td>{s.folio}</td>
                <td>{formatDateTime(s.recorded_at)}</td>
                <td className="num">{money(s.total_cents)}</td>
                <td>{t(`noteStatus.${s.fiscal_status}` as "noteStatus.pending", { defaultValue: s.fiscal_status })}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </div>
  );
}
