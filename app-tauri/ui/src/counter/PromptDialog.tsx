import { useState } from "react";
import { useTranslation } from "react-i18next";
import { asUiError } from "../backend";
import { errorText } from "../state";
import { AutoFocusInput, Dialog, Message } from "../ui";

/// One field; a refusal keeps the dialog open with what was typed and says why.
export function PromptDialog({ title, initial, onSubmit, onCancel }: { title: string; initial: string; onSubmit: (v: string) => Promise<void>; onCancel: () => void }) {
  const { t } = useTranslation();
  const [value, setValue] = useState(initial);
  const [error, setError] = useState<string | null>(null);
  return (
    <Dialog title={title} onClose={onCancel} testId="prompt-dialog">
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          try {
            await onSubmit(value);
          } catch (err) {
            setError(errorText(t, asUiError(err)));
          }
        }}
      >
        <AutoFocusInput className="full" data-testid="prompt-input" value={value} onChange={(e) => setValue(e.target.value)} />
        <Message error={error} />
        <div className="buttons">
          <button type="button" onClick={onCancel}>
            {t("manager.cancel")}
          </button>
          <button type="submit" className="primary" data-testid="prompt-submit">
            OK
          </button>
        </div>
      </form>
    </Dialog>
  );
}
