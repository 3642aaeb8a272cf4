import { useState } from "react";
import { useTranslation } from "react-i18next";
import type { AppInfo } from "../bindings/AppInfo";
import type { Operator } from "../bindings/Operator";
import { asUiError } from "../backend";
import { useBackend } from "../context";
import { errorText } from "../state";
import { Message } from "../ui";

export function SignIn({ info, onSignedIn }: { info: AppInfo; onSignedIn: (op: Operator) => void }) {
  const { t } = useTranslation();
  const backend = useBackend();
  const [login, setLogin] = useState(info.demo?.users[0]?.login ?? "");
  const [pin, setPin] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    setBusy(true);
    try {
      onSignedIn(await backend.signIn(login.trim(), pin));
    } catch (e) {
      setError(errorText(t, asUiError(e)));
      setPin("");
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="center-card" data-testid="sign-in">
      <h1>{t("signIn.title")}</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <label>
          {t("signIn.login")}
          <input data-testid="login" value={login} onChange={(e) => setLogin(e.target.value)} autoComplete="off" />
        </label>
        <label>
          {t("signIn.pin")}
          <input
            data-testid="pin"
            type="password"
            inputMode="numeric"
            value={pin}
            autoFocus
            onChange={(e) => setPin(e.target.value)}
          />
        </label>
        <button className="primary" type="submit" disabled={busy} data-testid="sign-in-submit">
          {t("signIn.submit")}
        </button>
      </form>
      <Message error={error} />
      {info.demo && (
        <div className="demo-users" data-testid="demo-users">
          <h3>{t("signIn.demoUsers")}</h3>
          <p className="muted">{t("signIn.demoHint")}</p>
          <table>
            <tbody>
              {info.demo.users.map((u) => (
                <tr key={u.login} onClick={() => setLogin(u.login)}>
                  <td>{u.name}</td>
                  <td>
                    <code>{u.login}</code>
                  </td>
                  <td>{t(`roles.${u.role}` as "roles.seller")}</td>
                  <td>
                    PIN <code>{u.pin}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="muted">
            {info.demo.sample_codes.map((c) => (
              <code key={c} className="sample">
                {c}
              </code>
            ))}
          </p>
        </div>
      )}
    </div>
  );
}
