import { lazy, Suspense, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import type { AppInfo } from "./bindings/AppInfo";
import type { PosStatus } from "./bindings/PosStatus";
import { asUiError } from "./backend";
import { useBackend } from "./context";
import { Counter } from "./counter/Counter";
import { StatusBar } from "./counter/StatusBar";
import { QuitGuard } from "./counter/QuitGuard";
import { languages, type Language } from "./i18n";
import { errorText } from "./state";
import { setStoreLocale } from "./format";

// The back office (charts, the big table) loads on first use, keeping the counter's start light.
const BackOffice = lazy(() => import("./backoffice/BackOffice").then((m) => ({ default: m.BackOffice })));

export function App() {
  const backend = useBackend();
  const { t, i18n } = useTranslation();
  const [info, setInfo] = useState<AppInfo | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [status, setStatus] = useState<PosStatus | null>(null);
  const [mode, setMode] = useState<"counter" | "backoffice">("counter");

  useEffect(() => {
    let unlisten: (() => void) | null = null;
    backend
      .appInfo()
      .then(async (i) => {
        setStoreLocale(i.locale, i.currency);
        setInfo(i);
        setStatus(await backend.status());
        unlisten = await backend.onStatus(setStatus);
      })
      .catch((e) => setFailure(errorText(t, asUiError(e))));
    return () => unlisten?.();
  }, [backend]);

  // Deadlines count down even when nothing else changes; every few seconds the status is also
  // read again, in case a change reached the store without an event.
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const id = setInterval(() => setTick((n) => n + 1), 1000);
    return () => clearInterval(id);
  }, []);
  useEffect(() => {
    if (info && tick % 3 === 0) void backend.status().then(setStatus, () => undefined);
  }, [tick]);

  const languageSwitch = (
    <label className="lang">
      {t("app.language")}{" "}
      <select
        data-testid="language"
        value={i18n.language}
        onChange={(e) => {
          void i18n.changeLanguage(e.target.value as Language);
          document.documentElement.lang = e.target.value;
        }}
      >
        {languages.map((l) => (
          <option key={l} value={l}>
            {l === "pt-BR" ? "Português (Brasil)" : l === "es" ? "Español" : "English"}
          </option>
        ))}
      </select>
    </label>
  );

  if (failure) return <div className="splash error" data-testid="start-failed">{t("app.startFailed", { reason: failure })}</div>;
  if (!info || !status)
    return (
      <div className="splash" data-testid="starting">
        {t("app.starting")}
      </div>
    );

  return (
    <div className="app">
      <header className="topbar">
        <strong className="brand">Tenda</strong>
        <span className="store">{info.store_name}</span>
        <nav>
          <button data-testid="mode-counter" className={mode === "counter" ? "tab active" : "tab"} onClick={() => setMode("counter")}>
            {t("app.counter")}
          </button>
          <button data-testid="mode-backoffice" className={mode === "backoffice" ? "tab active" : "tab"} onClick={() => setMode("backoffice")}>
            {t("app.backOffice")}
          </button>
        </nav>
        {languageSwitch}
      </header>
      <main className="content">
        <div style={{ display: mode === "counter" ? "contents" : "none" }}>
          <Counter info={info} status={status} active={mode === "counter"} />
        </div>
        {mode === "backoffice" && (
          <Suspense fallback={<div className="splash">…</div>}>
            <BackOffice info={info} />
          </Suspense>
        )}
      </main>
      <StatusBar status={status} info={info} />
      <QuitGuard />
    </div>
  );
}
