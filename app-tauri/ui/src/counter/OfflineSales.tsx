import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import type { OfflineSaleRow } from "../bindings/OfflineSaleRow";
import type { SaleDetail } from "../bindings/SaleDetail";
import { asUiError } from "../backend";
import { useBackend } from "../context";
import { formatDateTime, formatMoney, formatQuantity, formatTime } from "../format";
import { errorText, type WithManager } from "../state";
import { Dialog, Message } from "../ui";

/// Sales on this register, nearest fiscal deadline first: detail, reprint, cancel, sync now.
export function OfflineSales({ onClose, withManager }: { onClose: () => void; withManager: WithManager }) {
  const { t } = useTranslation();
  const backend = useBackend();
  const [rows, setRows] = useState<OfflineSaleRow[]>([]);
  const [detail, setDetail] = useState<SaleDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [info, setInfo] = useState<string | null>(null);
  const money = (c: number) => formatMoney(c);
  const load = async () => {
    const r = await backend.offlineSales();
    r.sort((a, b) => {
      const da = a.note?.deadline ? new Date(a.note.deadline).getTime() : Infinity;
      const db = b.note?.deadline ? new Date(b.note.deadline).getTime() : Infinity;
      return da - db || b.local_number - a.local_number;
    });
    setRows(r);
  };
  useEffect(() => {
    void load();
  }, []);
  const guard = async (f: () => Promise<void>) => {
    try {
      await f();
      setError(null);
    } catch (e) {
      setError(errorText(t, asUiError(e)));
    }
  };
  return (
    <Dialog title={t("sales.title")} onClose={onClose} wide testId="offline-sales">
      <div className="buttons">
        <button
          data-testid="sync-all"
          onClick={() =>
            guard(async () => {
              await backend.syncNow();
              setInfo(t("sales.syncRequested"));
              await load();
            })
          }
        >
          {t("sales.syncAll")}
        </button>
        <button onClick={onClose}>{t("sales.close")}</button>
      </div>
      <Message error={error} info={info} />
      {rows.length === 0 ? (
        <p data-testid="sales-empty">{t("sales.empty")}</p>
      ) : (
        <div className="scroll">
          <table className="grid" data-testid="sales-table">
            <thead>
              <tr>
                <th>{t("sales.number")}</th>
                <th>{t("sales.time")}</th>
                <th className="num">{t("sales.total")}</th>
                <th>{t("sales.note")}</th>
                <th>{t("sales.deadline")}</th>
                <th>{t("sales.synced")}</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.sale_id} data-testid="sale-row">
                  <td>#{r.local_number}</td>
                  <td>{formatTime(r.created_at)}</td>
                  <td className="num">{money(r.total)}</td>
                  <td data-testid="sale-note-status">
                    {r.voided
                      ? t("sales.voided")
                      : r.note
                        ? `${r.note.number} ${t(`noteStatus.${r.note.status}` as "noteStatus.pending")}${r.note.contingency && r.note.status !== "contingency" ? " · " + t("noteStatus.contingency") : ""}`
                        : t("noteStatus.none")}
                    {r.note?.rejection && <div className="bad">{r.note.rejection}</div>}
                  </td>
                  <td>{r.note?.deadline && r.note.status !== "authorized" ? formatDateTime(r.note.deadline) : ""}</td>
                  <td>{r.synced ? t("sales.yes") : t("sales.no")}</td>
                  <td className="actions">
                    <button onClick={() => guard(async () => setDetail(await backend.saleDetail(r.sale_id)))}>{t("sales.detail")}</button>
                    <button onClick={() => guard(async () => void (await backend.reprint(r.sale_id)))}>{t("sales.reprint")}</button>
                    {!r.synced && !r.note && !r.voided && (
                      <button
                        className="danger"
                        onClick={() => {
                          if (!window.confirm(t("sales.cancelConfirm", { number: r.local_number }))) return;
                          void withManager(t("sales.cancel"), async (m) => {
                            await backend.cancelUnsyncedSale(r.sale_id, "cancelled at the counter", m);
                            await load();
                          });
                        }}
                      >
                        {t("sales.cancel")}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {detail && (
        <div className="detail" data-testid="sale-detail">
          <h3>
            {t("sales.number")} #{detail.row.local_number} — {money(detail.row.total)}
          </h3>
          <h4>{t("sales.lines")}</h4>
          <ul>
            {detail.lines.map((l, i) => (
              <li key={i}>
                {formatQuantity(l.quantity_thousandths)} {l.unit} × {l.name} = {money(l.total)}
              </li>
            ))}
          </ul>
          <h4>{t("sales.payments")}</h4>
          <ul>
            {detail.payments.map((p, i) => (
              <li key={i}>
                {t(`kinds.${p.kind}`)} {money(p.amount)} {p.detail ?? ""}
              </li>
            ))}
          </ul>
        </div>
      )}
    </Dialog>
  );
}
