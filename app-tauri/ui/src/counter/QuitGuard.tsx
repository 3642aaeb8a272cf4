import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { getCurrentWindow } from "@tauri-apps/api/window";
import type { QuitCheck } from "../bindings/QuitCheck";
import { useBackend } from "../context";
import { Dialog } from "../ui";

/// Asks before the window closes while sales or notes have not gone out.
export function QuitGuard() {
  const { t } = useTranslation();
  const backend = useBackend();
  const [pending, setPending] = useState<QuitCheck | null>(null);
  useEffect(() => {
    if (!("__TAURI_INTERNALS__" in window)) return;
    const win = getCurrentWindow();
    const off = win.onCloseRequested(async (event) => {
      const check = await backend.quitCheck().catch(() => null);
      if (check && (check.unsynced_sales > 0 || check.pending_notes > 0)) {
        event.preventDefault();
        setPending(check);
      }
    });
    return () => {
      void off.then((f) => f());
    };
  }, [backend]);
  if (!pending) return null;
  return (
    <Dialog title={t("quit.title")} onClose={() => setPending(null)}>
      <p>{t("quit.body", { sales: pending.unsynced_sales, notes: pending.pending_notes })}</p>
      <div className="buttons">
        <button className="primary" onClick={() => setPending(null)}>
          {t("quit.stay")}
        </button>
        <button className="danger" onClick={() => void getCurrentWindow().destroy()}>
          {t("quit.quit")}
        </button>
      </div>
    </Dialog>
  );
}
