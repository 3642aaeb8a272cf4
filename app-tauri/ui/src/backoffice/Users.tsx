import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import type { UserView } from "../bindings/server/UserView";
import { asUiError } from "../backend";
import { useBackend } from "../context";
import { errorText } from "../state";
import { Message } from "../ui";

export function Users() {
  const { t } = useTranslation();
  const backend = useBackend();
  const [rows, setRows] = useState<UserView[]>([]);
  const [form, setForm] = useState({ name: "", login: "", role: "seller", secret: "" });
  const [error, setError] = useState<string | null>(null);
  const [info, setInfo] = useState<string | null>(null);
  const load = () => backend.boUsers().then(setRows);
  useEffect(() => void load(), [backend]);
  return (
    <div data-testid="users">
      <table className="grid">
        <thead>
          <tr>
            <th>{t("bo.users.name")}</th>
            <th>{t("bo.users.login")}</th>
            <th>{t("bo.users.role")}</th>
            <th>{t("bo.users.active")}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((u) => (
            <tr key={u.id}>
              <td>{u.name}</td>
              <td>{u.login}</td>
              <td>{t(`roles.${u.role}` as "roles.seller", { defaultValue: u.role })}</td>
              <td>{u.active ? "✓" : ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <form
        className="inline-form"
        onSubmit={async (e) => {
          e.preventDefault();
          try {
            await backend.boCreateUser(form);
            setInfo(t("bo.users.created"));
            setError(null);
            setForm({ name: "", login: "", role: "seller", secret: "" });
            await load();
          } catch (err) {
            // What was typed stays in the form.
            setError(errorText(t, asUiError(err)));
          }
        }}
      >
        <input placeholder={t("bo.users.name")} value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
        <input placeholder={t("bo.users.login")} value={form.login} onChange={(e) => setForm({ ...form, login: e.target.value })} />
        <select value={form.role} onChange={(e) => setForm({ ...form, role: e.target.value })}>
          {["seller", "manager", "owner"].map((r) => (
            <option key={r} value={r}>
              {t(`roles.${r}` as "roles.seller")}
            </option>
          ))}
        </select>
        <input type="password" placeholder={t("bo.users.secret")} value={form.secret} onChange={(e) => setForm({ ...form, secret: e.target.value })} />
        <button className="primary" type="submit">
          {t("bo.users.add")}
        </button>
      </form>
      <Message error={error} info={info} />
    </div>
  );
}
