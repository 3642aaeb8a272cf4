import { useState } from "react";
import { useTranslation } from "react-i18next";
import type { AppInfo } from "../bindings/AppInfo";
import type { ApprovalInput } from "../bindings/ApprovalInput";
import { asUiError } from "../backend";
import { errorText } from "../state";
import { AutoFocusInput, Dialog, Message } from "../ui";

export function ManagerDialog({ info, action, onApprove, onCancel }: { info: AppInfo; action: string; onApprove: (m: ApprovalInput) => Promise<void>; onCancel: () => void }) {
  const { t } = useTranslation();
  const [login, setLogin] = useState(info.demo?.users.find((u) => u.role === "manager")?.login ?? "");
  const [pin, setPin] = useState("");
  const [error, setError] = useState<string | null>(null);
  return (
    <Dialog title={t("manager.title")} onClose={onCancel} testId="manager-dialog">
      <p>{t("manager.explain", { action })}</p>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          try {
            await onApprove({ login, pin });
          } catch (err) {
            setError(errorText(t, asUiError(err)));
            setPin("");
          }
        }}
      >
        <label>
          {t("manager.login")}
          <input data-testid="manager-login" value={login} onChange={(e) => setLogin(e.target.value)} />
        </label>
        <label>
          {t("manager.pin")}
          <AutoFocusInput data-testid="manager-pin" type="password" value={pin} onChange={(e) => setPin(e.target.value)} />
        </label>
        <Message error={error} />
        <div className="buttons">
          <button type="button" onClick={onCancel}>
            {t("manager.cancel")}
          </button>
          <button type="submit" className="primary" data-testid="manager-approve">
            {t("manager.approve")}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
