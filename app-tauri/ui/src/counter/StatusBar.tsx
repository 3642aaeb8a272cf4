import { useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import type { AppInfo } from "../bindings/AppInfo";
import type { PeripheralState } from "../bindings/PeripheralState";
import type { PosStatus } from "../bindings/PosStatus";
import { useBackend } from "../context";
import { formatTime } from "../format";
import { countdown, deadlineLevel, nextOfflineSince } from "../state";

function peripheral(t: ReturnType<typeof useTranslation>["t"], p: PeripheralState): string {
  if (p === "Ready") return t("status.ready");
  if (p === "NotConfigured") return t("status.notConfigured");
  if (p === "Disconnected") return t("status.disconnected");
  return p.NeedsAttention.reason;
}

/// Always at the bottom: the link, SEFAZ, the backlog and its nearest deadline, peripherals.
export function StatusBar({ status, info }: { status: PosStatus; info: AppInfo }) {
  const { t } = useTranslation();
  const backend = useBackend();
  const offlineSince = useRef<number | null>(null);
  offlineSince.current = nextOfflineSince(offlineSince.current, status, Date.now());
  const [linkUp, setLinkUp] = useState(info.demo?.link_up ?? true);
  const [notice, setNotice] = useState(false);
  const wasOnline = useRef(true);
  useEffect(() => {
    if (status.link === "Offline" && wasOnline.current) setNotice(true);
    if (status.link === "Online") setNotice(false);
    wasOnline.current = status.link === "Online";
  }, [status.link]);

  const link =
    status.link === "Offline"
      ? t("status.offlineSince", { time: formatTime(offlineSince.current ?? Date.now()) })
      : status.pending_sync > 0
        ? t("status.syncing", { count: status.pending_sync })
        : t("status.online");
  const sefaz = {
    Normal: t("status.sefazNormal"),
    Contingency: t("status.sefazContingency"),
    ContingencyRequired: t("status.sefazRequired"),
    Draining: t("status.sefazDraining"),
  }[status.sefaz];
  const level = deadlineLevel(status);
  const due = status.nearest_deadline ? countdown(status.nearest_deadline, Date.now()) : null;

  return (
    <>
      {notice && (
        <div className="offline-notice" data-testid="offline-notice" onClick={() => setNotice(false)}>
          <strong>{t("status.offlineNotice")}</strong>
          <ul>
            {status.unavailable.map((u) => (
              <li key={u.feature}>
                {u.feature in (t("offlineFeatures", { returnObjects: true }) as object)
                  ? t(`offlineFeatures.${u.feature}` as "offlineFeatures.pix")
                  : u.feature}
              </li>
            ))}
          </ul>
        </div>
      )}
      <footer className="statusbar" data-testid="statusbar">
        <span className={status.link === "Online" ? "pill ok" : "pill bad"} data-testid="status-link">
          {link}
        </span>
        <span className={status.sefaz === "Normal" ? "pill ok" : "pill warn"} data-testid="status-sefaz">
          {sefaz}
        </span>
        <span className={`pill backlog ${level}`} data-testid="status-backlog">
          {t("status.backlog", { sales: status.pending_sync, notes: status.pending_notes })}
          {due && " · " + (due.overdue ? t("status.overdue") : t("status.deadlineIn", { time: due.text }))}
        </span>
        <span className="pill">
          {t("status.printer")}: {peripheral(t, status.printer)}
        </span>
        <span className="pill">
          {t("status.cardReader")}: {peripheral(t, status.card_reader)}
        </span>
        {info.demo && (
          <button
            data-testid="link-switch"
            className={linkUp ? "danger" : "primary"}
            onClick={async () => setLinkUp(await backend.setStoreLink(!linkUp))}
          >
            {t("status.demo")}: {linkUp ? t("status.cutLink") : t("status.restoreLink")}
          </button>
        )}
      </footer>
    </>
  );
}
