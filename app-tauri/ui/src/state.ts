// The counter's state logic, kept apart from the screens so Vitest can check it.
import type { TFunction } from "i18next";
import type { ApprovalInput } from "./bindings/ApprovalInput";
import type { Discount } from "./bindings/Discount";
import type { PaymentRequest } from "./bindings/PaymentRequest";
import type { PosStatus } from "./bindings/PosStatus";
import type { UiError } from "./bindings/UiError";
import { asUiError } from "./backend";
import { formatDuration, parseMoney } from "./format";

export function paymentAmount(p: PaymentRequest): number {
  if ("Cash" in p) return p.Cash.amount;
  if ("Card" in p) return p.Card.amount;
  if ("Pix" in p) return p.Pix.amount;
  return p.CustomerAccount.amount;
}

/// What is still due and the change, for payments entered so far against `total` (centavos).
export function paymentProgress(total: number, payments: PaymentRequest[]) {
  const paid = payments.reduce((sum, p) => sum + paymentAmount(p), 0);
  const tendered = payments.reduce((sum, p) => sum + ("Cash" in p ? p.Cash.tendered - p.Cash.amount : 0), 0);
  return { paid, remaining: Math.max(0, total - paid), change: tendered };
}

/// A cash payment covering at most `remaining`, from what the customer handed over.
export function cashPayment(remaining: number, tendered: number): PaymentRequest {
  return { Cash: { amount: Math.min(remaining, tendered), tendered } };
}

/// "10%" → basis points, "5,00" → an amount off; null when unreadable.
export function parseDiscount(text: string): Discount | null {
  const t = text.trim();
  const pct = t.match(/^(\d{1,3})(?:[.,](\d{1,2}))?\s*%$/);
  if (pct) {
    const bp = Number(pct[1]) * 100 + Number((pct[2] ?? "").padEnd(2, "0"));
    return bp > 0 && bp <= 10000 ? { kind: "percent", value: bp } : null;
  }
  const amount = parseMoney(t);
  return amount !== null && amount > 0 ? { kind: "amount", value: amount } : null;
}

export type DeadlineLevel = "none" | "normal" | "amber" | "red";

/// The status bar's countdown colour: amber past half the window, red when urgent or overdue.
export function deadlineLevel(status: Pick<PosStatus, "nearest_deadline" | "deadline_alarm">): DeadlineLevel {
  if (!status.nearest_deadline) return "none";
  switch (status.deadline_alarm) {
    case "Urgent":
    case "Overdue":
      return "red";
    case "Half":
      return "amber";
    default:
      return "normal";
  }
}

export function countdown(deadline: string, now: number): { overdue: boolean; text: string } {
  const ms = new Date(deadline).getTime() - now;
  return { overdue: ms <= 0, text: formatDuration(ms) };
}

/// Tracks when the link went down (the status only says online/offline).
export function nextOfflineSince(prev: number | null, status: Pick<PosStatus, "link">, now: number): number | null {
  if (status.link === "Online") return null;
  return prev ?? now;
}

/// The message for a refusal, in the user's language.
export function errorText(t: TFunction, e: UiError, now = Date.now()): string {
  const f = e.fields;
  switch (e.code) {
    case "wrong_credentials":
      return t("errors.wrong_credentials", { remaining_attempts: f.remaining_attempts ?? "?" });
    case "locked_out": {
      const until = f.until ? new Date(f.until).getTime() : now;
      return t("errors.locked_out", { time: formatDuration(until - now) });
    }
    case "not_found":
      if (f.code) return t("errors.unknown_code", { code: f.code });
      return t("errors.not_found", { what: f.what ?? "" });
    case "invalid_input": {
      if (f.field === "consumer_tax_id") return t("errors.invalid_tax_id", { value: f.value ?? "" });
      if (f.field === "superseded_access_key") return t("errors.invalid_access_key");
      // A corrected line's fiscal code, as the core names it: "lines[2].ncm".
      const code = /^lines\[(\d+)\]\.(ncm|cfop|cest)$/.exec(f.field ?? "");
      if (code) {
        const line = Number(code[1]) + 1;
        if (code[2] === "ncm") return t("errors.invalid_ncm", { line });
        if (code[2] === "cfop") return t("errors.invalid_cfop", { line });
        return t("errors.invalid_cest", { line });
      }
      return t("errors.invalid_input", { field: f.field ?? "", reason: f.reason ?? "" });
    }
    case "offline":
      return t("errors.offline", { why: f.why ?? "" });
    case "forbidden":
      return t("errors.forbidden");
    case "rejected":
      return t("errors.rejected", { code: f.code ?? "", reason: f.reason ?? "" });
    case "limit_exceeded":
      return t("errors.limit_exceeded", { limit: f.limit ?? "" });
    case "contingency_required":
      return t("errors.contingency_required");
    case "invalid_state":
      return t("errors.invalid_state", { reason: f.reason ?? "" });
    case "insufficient_stock":
      return t("errors.insufficient_stock", { product: f.product ?? "" });
    case "peripheral":
      return t("errors.peripheral", { device: f.device ?? "", reason: f.reason ?? "" });
    case "storage":
      return t("errors.storage");
    case "internal":
      return t("errors.internal", { detail: f.detail ?? e.message });
    case "ticket_open":
      return t("errors.ticket_open");
    case "not_demo":
      return t("errors.not_demo");
    case "bluetooth_unavailable":
      return t("errors.bluetooth_unavailable");
    case "server_unreachable":
      return t("errors.server_unreachable");
    case "unauthorized":
      return t("errors.unauthorized");
    case "not_signed_in":
      return t("errors.not_signed_in");
    case "conflict":
      return t("errors.conflict");
    case "store_unavailable":
      return t("errors.store_unavailable", { message: e.message });
    default:
      return t("errors.generic", { code: e.code, message: e.message });
  }
}

/// Runs an action; when it needs a manager, asks for one and runs it again with their PIN.
export type WithManager = (label: string, run: (m: ApprovalInput | null) => Promise<void>) => Promise<void>;

/// A manager's action run from a dialog: a refusal for want of permission goes back to
/// `withManager` (which asks for the PIN and runs it again); any other failure goes to `show`,
/// in the dialog the person is looking at.
export function inDialog(withManager: WithManager, show: (e: UiError) => void): WithManager {
  return (label, run) =>
    withManager(label, async (m) => {
      try {
        await run(m);
      } catch (e) {
        const err = asUiError(e);
        if (err.code === "forbidden") throw e;
        show(err);
      }
    });
}

/// Function keys at the counter.
export const counterKeys = {
  F1: "fiscal",
  F2: "pay",
  F3: "qty",
  F4: "discount",
  F5: "saleDiscount",
  F6: "consumer",
  F7: "customer",
  F8: "void",
  F9: "sales",
  F10: "contingency",
  F11: "close",
  F12: "devices",
} as const;
export type CounterAction = (typeof counterKeys)[keyof typeof counterKeys];

export function actionForKey(key: string): CounterAction | null {
  return (counterKeys as Record<string, CounterAction>)[key] ?? null;
}
