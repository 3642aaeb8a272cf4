import { beforeAll, describe, expect, it } from "vitest";
import i18n from "i18next";
import { resources } from "../i18n";
import { actionForKey, cashPayment, countdown, deadlineLevel, errorText, nextOfflineSince, parseDiscount, paymentProgress } from "../state";
import { salesPerDay, salesPerHour } from "../reports";

beforeAll(async () => {
  await i18n.init({ resources, lng: "pt-BR", interpolation: { escapeValue: false } });
});

describe("payments", () => {
  it("tracks what is left and the change, in centavos", () => {
    const total = 3389;
    const cash = cashPayment(total, 5000);
    expect(cash).toEqual({ Cash: { amount: 3389, tendered: 5000 } });
    expect(paymentProgress(total, [cash])).toEqual({ paid: 3389, remaining: 0, change: 1611 });
    const split = [{ Card: { amount: 2000, kind: "credit" as const } }, cashPayment(1389, 1400)];
    expect(paymentProgress(total, split)).toEqual({ paid: 3389, remaining: 0, change: 11 });
    expect(paymentProgress(total, [split[0]]).remaining).toBe(1389);
  });
  it("reads discounts as basis points or an amount", () => {
    expect(parseDiscount("10%")).toEqual({ kind: "percent", value: 1000 });
    expect(parseDiscount("12,5%")).toEqual({ kind: "percent", value: 1250 });
    expect(parseDiscount("5,00")).toEqual({ kind: "amount", value: 500 });
    expect(parseDiscount("150%")).toBeNull();
    expect(parseDiscount("x")).toBeNull();
  });
});

describe("status bar", () => {
  it("turns the deadline amber at half the window and red when urgent", () => {
    expect(deadlineLevel({ nearest_deadline: null, deadline_alarm: null })).toBe("none");
    expect(deadlineLevel({ nearest_deadline: "2026-01-01T00:00:00Z", deadline_alarm: null })).toBe("normal");
    expect(deadlineLevel({ nearest_deadline: "2026-01-01T00:00:00Z", deadline_alarm: "Half" })).toBe("amber");
    expect(deadlineLevel({ nearest_deadline: "2026-01-01T00:00:00Z", deadline_alarm: "Urgent" })).toBe("red");
    expect(deadlineLevel({ nearest_deadline: "2026-01-01T00:00:00Z", deadline_alarm: "Overdue" })).toBe("red");
  });
  it("counts down to the deadline", () => {
    const now = Date.parse("2026-01-01T10:00:00Z");
    expect(countdown("2026-01-01T11:05:00Z", now)).toEqual({ overdue: false, text: "1 h 05 min" });
    expect(countdown("2026-01-01T09:00:00Z", now).overdue).toBe(true);
  });
  it("remembers when the link went down until it is back", () => {
    expect(nextOfflineSince(null, { link: "Offline" }, 5)).toBe(5);
    expect(nextOfflineSince(5, { link: "Offline" }, 9)).toBe(5);
    expect(nextOfflineSince(5, { link: "Online" }, 9)).toBeNull();
  });
  it("maps function keys to counter actions", () => {
    expect(actionForKey("F2")).toBe("pay");
    expect(actionForKey("F10")).toBe("contingency");
    expect(actionForKey("a")).toBeNull();
  });
});

describe("errors in the user's language", () => {
  const t = i18n.t.bind(i18n);
  it("says how long a lockout lasts", () => {
    const now = Date.parse("2026-01-01T10:00:00Z");
    const e = { code: "locked_out", fields: { until: "2026-01-01T10:04:30Z" }, message: "" };
    expect(errorText(t, e, now)).toBe("Bloqueado. Tente de novo em 4 min 30 s.");
  });
  it("names the unknown barcode and the bad CPF", () => {
    expect(errorText(t, { code: "not_found", fields: { what: "product", code: "123" }, message: "" })).toBe("Nenhum produto com o código “123”.");
    expect(errorText(t, { code: "invalid_input", fields: { field: "consumer_tax_id", value: "111" }, message: "" })).toContain("111");
  });
  it("follows a language switch", async () => {
    await i18n.changeLanguage("es");
    expect(errorText(t, { code: "wrong_credentials", fields: { remaining_attempts: "2" }, message: "" })).toBe("PIN o contraseña incorrectos. Quedan 2 intentos.");
    await i18n.changeLanguage("en");
    expect(errorText(t, { code: "wrong_credentials", fields: { remaining_attempts: "2" }, message: "" })).toBe("Wrong PIN or password. 2 attempts left.");
    await i18n.changeLanguage("pt-BR");
  });
  it("keeps unknown codes readable", () => {
    expect(errorText(t, { code: "brand_new", fields: {}, message: "boom" })).toContain("brand_new");
  });
});

describe("report buckets", () => {
  it("sums centavos per local hour and per day", () => {
    const day = new Date(2026, 0, 10, 15, 0);
    const at = (d: number, h: number) => new Date(2026, 0, d, h, 30).getTime();
    const sales = [
      { recorded_at: at(10, 9), total_cents: 1000 },
      { recorded_at: at(10, 9), total_cents: 250 },
      { recorded_at: at(10, 14), total_cents: 99 },
      { recorded_at: at(9, 9), total_cents: 5000 },
    ];
    const h = salesPerHour(sales, day);
    expect(h.cents[9]).toBe(1250);
    expect(h.count[9]).toBe(2);
    expect(h.cents[14]).toBe(99);
    const d = salesPerDay(sales, day, 3);
    expect(d.cents).toEqual([0, 5000, 1349]);
    expect(d.days[2]).toBe("2026-01-10");
  });
});
