import { useCallback, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import type { HubStatus } from "../bindings/server/HubStatus";
import { asUiError } from "../backend";
import { useBackend } from "../context";
import { formatDateTime, formatNumber } from "../format";
import { errorText } from "../state";
import { Message } from "../ui";

/// The store hub as the signed-in server sees it: on a hub, its cloud link, relay backlog and
/// tills; on the cloud, the store's hubs; a store without a hub says so.
export function Hub() {
  const { t } = useTranslation();
  const backend = useBackend();
  const [status, setStatus] = useState<HubStatus | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(
    () =>
      backend.boHub().then(
        (s) => {
          setStatus(s);
          setError(null);
        },
        (e) => setError(errorText(t, asUiError(e))),
      ),
    [backend, t],
  );
  useEffect(() => {
    void load();
  }, [load]);
  const when = (ms: number | null) => (ms === null ? t("bo.hub.never") : formatDateTime(ms));
  const yesNo = (b: boolean) => (b ? t("bo.hub.yes") : t("bo.hub.no"));

  return (
    <div data-testid="hub">
      <button onClick={() => void load()} data-testid="hub-refresh">
        {t("bo.hub.refresh")}
      </button>
      <Message error={error} info={null} />
      {status?.role === "cloud" &&
        (status.hubs.length === 0 ? (
          <p className="muted" data-testid="hub-none">
            {t("bo.hub.none")}
          </p>
        ) : (
          <>
            <h3>{t("bo.hub.hubs")}</h3>
            <table className="grid" data-testid="hub-list">
              <thead>
                <tr>
                  <th>{t("bo.hub.address")}</th>
                  <th>{t("bo.hub.branch")}</th>
                  <th>{t("bo.hub.lastSeen")}</th>
                  <th>{t("bo.hub.revoked")}</th>
                </tr>
              </thead>
              <tbody>
                {status.hubs.map((h) => (
                  <tr key={h.device_id}>
                    <td>{h.url}</td>
                    <td>{h.branch_id}</td>
                    <td>{when(h.last_seen_at)}</td>
                    <td>{h.revoked ? "✓" : ""}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        ))}
      {status?.role === "hub" && (
        <>
          <h3>{t("bo.hub.link")}</h3>
          {status.link.revoked && <p className="bad">{t("bo.hub.hubRevoked")}</p>}
          <dl className="facts" data-testid="hub-link">
            <dt>{status.link.upstream}</dt>
            <dd className={status.link.online ? "ok" : "bad"}>{status.link.online ? t("bo.hub.online") : t("bo.hub.offline")}</dd>
            <dt>{t("bo.hub.lastContact")}</dt>
            <dd>{when(status.link.last_contact_at)}</dd>
            {status.link.last_error && (
              <>
                <dt>{t("bo.hub.lastError")}</dt>
                <dd>{status.link.last_error}</dd>
              </>
            )}
            <dt>{t("bo.hub.relayed")}</dt>
            <dd className="num">{formatNumber(status.link.relayed)}</dd>
            <dt>{t("bo.hub.backlog")}</dt>
            <dd className="num" data-testid="hub-backlog">
              {formatNumber(status.backlog)}
            </dd>
            {status.oldest_queued_at !== null && (
              <>
                <dt>{t("bo.hub.oldest")}</dt>
                <dd>{when(status.oldest_queued_at)}</dd>
              </>
            )}
          </dl>
          <h3>{t("bo.hub.tills")}</h3>
          <table className="grid" data-testid="hub-tills">
            <thead>
              <tr>
                <th>{t("bo.hub.till")}</th>
                <th>{t("bo.hub.connected")}</th>
                <th>{t("bo.hub.lastSeen")}</th>
                <th className="num">{t("bo.hub.tillBacklog")}</th>
                <th>{t("bo.hub.revoked")}</th>
              </tr>
            </thead>
            <tbody>
              {status.tills.map((till) => (
                <tr key={till.device_id}>
                  <td>{till.name}</td>
                  <td>{yesNo(till.connected)}</td>
                  <td>{when(till.last_contact_at)}</td>
                  <td className="num">{formatNumber(till.backlog)}</td>
                  <td>{till.revoked ? "✓" : ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </div>
  );
}
