import { useState } from "react";
import { useTranslation } from "react-i18next";
import type { BluetoothDevice } from "../bindings/BluetoothDevice";
import { asUiError } from "../backend";
import { useBackend } from "../context";
import { errorText } from "../state";
import { Dialog, Message } from "../ui";

/// Printers and card readers in range: simulated ones in the demo, "Bluetooth unavailable" where
/// the computer has none.
export function DevicesDialog({ onClose }: { onClose: () => void }) {
  const { t } = useTranslation();
  const backend = useBackend();
  const [devices, setDevices] = useState<BluetoothDevice[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  return (
    <Dialog title={t("devices.title")} onClose={onClose} testId="devices-dialog">
      <div className="buttons">
        <button
          className="primary"
          data-testid="bt-scan"
          onClick={async () => {
            try {
              setDevices(await backend.bluetoothScan());
              setError(null);
            } catch (e) {
              setError(errorText(t, asUiError(e)));
            }
          }}
        >
          {t("devices.scan")}
        </button>
        <button onClick={onClose}>{t("sales.close")}</button>
      </div>
      <Message error={error} />
      {devices && (
        <ul className="devices" data-testid="bt-devices">
          {devices.map((d) => (
            <li key={d.id}>
              <strong>{d.kind === "printer" ? t("devices.printer") : t("devices.card_reader")}</strong>: {d.name}
              {d.simulated && <span className="tag">{t("devices.simulated")}</span>}
              {d.paired && <span className="tag ok">{t("devices.paired")}</span>}
            </li>
          ))}
        </ul>
      )}
    </Dialog>
  );
}
