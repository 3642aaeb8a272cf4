import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import QRCode from "qrcode";
import type { BranchView } from "../bindings/server/BranchView";
import type { DeviceView } from "../bindings/server/DeviceView";
import type { IssuedCode } from "../bindings/server/IssuedCode";
import { asUiError } from "../backend";
import { useBackend } from "../context";
import { formatDateTime } from "../format";
import { errorText } from "../state";
import { Message } from "../ui";

export function Devices() {
  const { t } = useTranslation();
  const backend = useBackend();
  const [rows, setRows] = useState<DeviceView[]>([]);
  const [branches, setBranches] = useState<BranchView[]>([]);
  const [code, setCode] = useState<IssuedCode | null>(null);
  const [qr, setQr] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = () => backend.boDevices().then(setRows);
  useEffect(() => {
    void load();
    void backend.boBranches().then(setBranches);
  }, [backend]);
  const guard = async (f: () => Promise<void>) => {
    try {
      await f();
      setError(null);
    } catch (e) {
      setError(errorText(t, asUiError(e)));
    }
  };
  return (
    <div data-testid="devices">
      <table className="grid">
        <thead>
          <tr>
            <th>{t("bo.devices.name")}</th>
            <th>{t("bo.devices.series")}</th>
            <th>{t("bo.devices.lastSeen")}</th>
            <th>{t("bo.devices.revoked")}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {rows.map((d) => (
            <tr key={d.id}>
              <td>{d.name}</td>
              <td>{d.nfce_series}</td>
              <td>{d.last_seen_at ? formatDateTime(d.last_seen_at) : t("bo.devices.never")}</td>
              <td>{d.revoked ? "✓" : ""}</td>
              <td>
                {!d.revoked && (
                  <button
                    className="danger"
                    onClick={() => {
                      if (window.confirm(`${t("bo.devices.revoke")} ${d.name}?`)) void guard(async () => { await backend.boRevokeDevice(d.id); await load(); });
                    }}
                  >
                    {t("bo.devices.revoke")}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <button
        className="primary"
        data-testid="new-code"
        onClick={() =>
          guard(async () => {
            const c = await backend.boEnrollmentCode(branches[0]?.id ?? "", rows.length + 1);
            setCode(c);
            setQr(await QRCode.toDataURL(c.code, { margin: 1, width: 220 }));
          })
        }
      >
        {t("bo.devices.code")}
      </button>
      {code && (
        <div className="code-box" data-testid="enrollment-code">
          <p>{t("bo.devices.codeFor", { time: formatDateTime(code.expires_at) })}</p>
          <code className="big">{code.code}</code>
          {qr && <img src={qr} alt="QR" />}
        </div>
      )}
      <Message error={error} />
    </div>
  );
}
