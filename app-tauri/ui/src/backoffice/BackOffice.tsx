import { useState } from "react";
import { useTranslation } from "react-i18next";
import type { AppInfo } from "../bindings/AppInfo";
import { asUiError } from "../backend";
import { useBackend } from "../context";
import { errorText } from "../state";
import { Message } from "../ui";
import { Reports } from "./Reports";
import { Catalog } from "./Catalog";
import { Prices } from "./Prices";
import { Customers } from "./Customers";
import { Users } from "./Users";
import { Hub } from "./Hub";
import { Devices } from "./Devices";
import { Settings } from "./Settings";
import { Audit } from "./Audit";

const tabs = ["reports", "catalog", "prices", "customers", "users", "devices", "hub", "settings", "audit"] as const;
type Tab = (typeof tabs)[number];

export interface OwnerSession {
  login: string;
  password: string;
}

export function BackOffice({ info }: { info: AppInfo }) {
  const { t } = useTranslation();
  const backend = useBackend();
  const [owner, setOwner] = useState<OwnerSession | null>(null);
  const [login, setLogin] = useState(info.demo?.owner_login ?? "");
  const [password, setPassword] = useState(info.demo?.owner_password ?? "");
  const [error, setError] = useState<string | null>(null);
  const [tab, setTab] = useState<Tab>("reports");

  if (!owner)
    return (
      <div className="center-card" data-testid="bo-login">
        <h1>{t("bo.signInTitle")}</h1>
        <p className="muted">
          {t("bo.server")}: <code>{info.server_url}</code>
        </p>
        <form
          onSubmit={async (e) => {
            e.preventDefault();
            try {
              await backend.boLogin(login, password);
              setOwner({ login, password });
              setError(null);
            } catch (err) {
              setError(errorText(t, asUiError(err)));
            }
          }}
        >
          <label>
            {t("bo.login")}
            <input data-testid="bo-login-name" value={login} onChange={(e) => setLogin(e.target.value)} />
          </label>
          <label>
            {t("bo.password")}
            <input data-testid="bo-password" type="password" value={password} onChange={(e) => setPassword(e.target.value)} />
          </label>
          <button className="primary" type="submit" data-testid="bo-login-submit">
            {t("bo.signIn")}
          </button>
        </form>
        <Message error={error} />
      </div>
    );

  return (
    <div className="backoffice" data-testid="backoffice">
      <nav className="bo-tabs">
        {tabs.map((k) => (
          <button key={k} className={k === tab ? "tab active" : "tab"} onClick={() => setTab(k)} data-testid={`bo-tab-${k}`}>
            {t(`bo.tabs.${k}`)}
          </button>
        ))}
      </nav>
      <div className="bo-body">
        {tab === "reports" && <Reports owner={owner} />}
        {tab === "catalog" && <Catalog />}
        {tab === "prices" && <Prices />}
        {tab === "customers" && <Customers />}
        {tab === "users" && <Users />}
        {tab === "devices" && <Devices />}
        {tab === "hub" && <Hub />}
        {tab === "settings" && <Settings />}
        {tab === "audit" && <Audit owner={owner} />}
      </div>
    </div>
  );
}
