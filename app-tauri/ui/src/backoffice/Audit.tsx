import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import type { AuditReport } from "../bindings/AuditReport";
import type { AuditView } from "../bindings/server/AuditView";
import { asUiError } from "../backend";
import { useBackend } from "../context";
import { formatDateTime } from "../format";
import { errorText } from "../state";
import { Message } from "../ui";
import type { OwnerSession } from "./BackOffice";

export function Audit({ owner }: { owner: OwnerSession }) {
  const { t } = useTranslation();
  const backend = useBackend();
  const [server, setServer] = useState<AuditView[]>([]);
  const [register, setRegister] = useState<AuditReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    (async () => {
      try {
        setServer(await backend.boAudit());
        setRegister((await backend.registerReports(owner)).audit);
      } catch (e) {
        setError(errorText(t, asUiError(e)));
      }
    })();
  }, [backend]);
  return (
    <div className="two" data-testid="audit">
      <Message error={error} />
      <section>
        <h3>{t("bo.audit.register")}</h3>
        {register && (
          <p className={register.chain_intact ? "ok" : "bad"} data-testid="audit-chain">
            {register.chain_intact ? t("bo.audit.intact", { detail: register.verification }) : t("bo.audit.broken", { detail: register.verification })}
          </p>
        )}
        <div className="scroll">
          <table className="grid small">
            <thead>
              <tr>
                <th>#</th>
                <th>{t("bo.audit.action")}</th>
                <th>{t("bo.audit.outcome")}</th>
                <th>{t("bo.audit.at")}</th>
              </tr>
            </thead>
            <tbody>
              {register?.entries.slice().reverse().map((e) => (
                <tr key={e.seq}>
                  <td>{e.seq}</td>
                  <td>{e.action}</td>
                  <td>{e.outcome}</td>
                  <td>{formatDateTime(e.at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      <section>
        <h3>{t("bo.audit.server")}</h3>
        <div className="scroll">
          <table className="grid small">
            <thead>
              <tr>
                <th>{t("bo.audit.action")}</th>
                <th>{t("bo.audit.subject")}</th>
                <th>{t("bo.audit.outcome")}</th>
                <th>{t("bo.audit.at")}</th>
              </tr>
            </thead>
            <tbody>
              {server.slice().reverse().slice(0, 200).map((e, i) => (
                <tr key={i}>
                  <td>{e.action}</td>
                  <td>{e.subject}</td>
                  <td>{e.outcome}</td>
                  <td>{formatDateTime(e.at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </div>
  );
}
