import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { asUiError } from "../backend";
import { useBackend } from "../context";
import { errorText } from "../state";
import { Message } from "../ui";

/// The settings the registers read; the server checks each value with the registers' own rules.
const known = [
  "policy.contingency",
  "policy.card_offline_limits",
  "policy.sell_without_stock_check",
  "policy.seller_discount_limit_bp",
  "policy.sefaz_timeout_ms",
  "policy.lockout",
  "sync.balance_refresh_ms",
  "sync.poll_interval_ms",
];

export function Settings() {
  const { t } = useTranslation();
  const backend = useBackend();
  const [values, setValues] = useState<Record<string, string>>({});
  const [edits, setEdits] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [info, setInfo] = useState<string | null>(null);
  const load = async () => setValues(await backend.boSettings());
  useEffect(() => void load(), [backend]);
  const keys = [...new Set([...known, ...Object.keys(values)])].filter((k) => k !== "fiscal.emitter").sort();
  return (
    <div data-testid="settings">
      <p className="muted">{t("bo.settings.help")}</p>
      <Message error={error} info={info} />
      <table className="grid">
        <thead>
          <tr>
            <th>{t("bo.settings.key")}</th>
            <th>{t("bo.settings.value")}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {keys.map((k) => (
            <tr key={k}>
              <td>
                <code>{k}</code>
              </td>
              <td>
                <input
                  className="wide"
                  data-testid={`setting-${k}`}
                  value={edits[k] ?? values[k] ?? ""}
                  onChange={(e) => setEdits({ ...edits, [k]: e.target.value })}
                />
              </td>
              <td>
                <button
                  data-testid={`setting-save-${k}`}
                  disabled={edits[k] === undefined}
                  onClick={async () => {
                    try {
                      await backend.boPutSetting(k, edits[k] ?? "");
                      setInfo(t("bo.settings.saved"));
                      setError(null);
                      const { [k]: _, ...rest } = edits;
                      setEdits(rest);
                      await load();
                    } catch (e) {
                      // The typed value stays in the field.
                      const err = asUiError(e);
                      setInfo(null);
                      setError(t("errors.setting_out_of_range", { value: edits[k] ?? "", key: k, reason: err.fields.reason ?? errorText(t, err) }));
                    }
                  }}
                >
                  {t("bo.settings.save")}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
