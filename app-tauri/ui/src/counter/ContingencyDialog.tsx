import { useState } from "react";
import { useTranslation } from "react-i18next";
import type { AppInfo } from "../bindings/AppInfo";
import { asUiError } from "../backend";
import { useBackend } from "../context";
import { errorText } from "../state";
import { Dialog, Message } from "../ui";

/// A manager's credentials and a justification (15–255 characters, as SEFAZ requires).
export function ContingencyDialog({ info, onClose }: { info: AppInfo; onClose: () => void }) {
  const { t } = useTranslation();
  const backend = useBackend();
  const manager = info.demo?.users.find((u) => u.role === "manager")?.login ?? "";
  const [login, setLogin] = useState(manager);
  const [pin, setPin] = useState("");
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const length = [...text.trim()].length;
  return (
    <Dialog title={t("contingency.title")} onClose={onClose} testId="contingency-dialog">
      <p>{t("contingency.explain")}</p>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          if (length < 15) {
            setError(t("contingency.tooShort"));
            return;
          }
          try {
            await backend.enterContingency(text.trim(), { login, pin });
            onClose();
          } catch (err) {
            setError(errorText(t, asUiError(err)));
            setPin("");
          }
        }}
      >
        <label>
          {t("contingency.manager")}
          <input data-testid="contingency-login" value={login} onChange={(e) => setLogin(e.target.value)} />
        </label>
        <label>
          {t("contingency.pin")}
          <input data-testid="contingency-pin" type="password" value={pin} onChange={(e) => setPin(e.target.value)} autoFocus />
        </label>
        <label>
          {t("contingency.justification")}
          <textarea data-testid="contingency-justification" maxLength={255} value={text} onChange={(e) => setText(e.target.value)} rows={3} />
        </label>
        <div className={length < 15 ? "muted bad" : "muted"}>{t("contingency.chars", { count: length })}</div>
        <Message error={error} />
        <div className="buttons">
          <button type="button" onClick={onClose}>
            {t("manager.cancel")}
          </button>
          <button type="submit" className="primary" data-testid="contingency-submit">
            {t("contingency.confirm")}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
