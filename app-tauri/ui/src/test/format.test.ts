import { describe, expect, it } from "vitest";
import { formatMoney, formatQuantity, parseMoney, parseQuantity, formatDuration } from "../format";

// Intl output uses narrow no-break spaces in some locales; compare with plain spaces.
const plain = (s: string) => s.replace(/[\u00a0\u202f]/g, " ");

describe("money", () => {
  it("formats integer centavos in each store locale", () => {
    expect(plain(formatMoney(123456, "pt-BR"))).toBe("R$ 1.234,56");
    expect(plain(formatMoney(5, "pt-BR"))).toBe("R$ 0,05");
    expect(plain(formatMoney(-1050, "pt-BR"))).toBe("-R$ 10,50");
    expect(formatMoney(123456, "en")).toBe("R$1,234.56");
    expect(plain(formatMoney(123456, "es"))).toContain("1234,56");
  });
  it("keeps exact centavos where floats would drift", () => {
    // 0.1 + 0.2 in floats is 0.30000000000000004; centavos stay integers.
    expect(plain(formatMoney(10 + 20, "pt-BR"))).toBe("R$ 0,30");
    expect(plain(formatMoney(9007199254740991, "pt-BR")).endsWith(",91")).toBe(true);
  });
  it("parses what people type into centavos", () => {
    expect(parseMoney("12,50")).toBe(1250);
    expect(parseMoney("12.50")).toBe(1250);
    expect(parseMoney("R$ 1.234,56")).toBe(123456);
    expect(parseMoney("1,234.56")).toBe(123456);
    expect(parseMoney("7")).toBe(700);
    expect(parseMoney("0,5")).toBe(50);
    expect(parseMoney("")).toBeNull();
    expect(parseMoney("abc")).toBeNull();
    // A field that kept its old value and got more typed after it is refused, not guessed.
    expect(parseMoney("R$ 46,80100,00")).toBeNull();
    expect(parseMoney("1.23")).toBe(123);
    expect(parseMoney("1.234")).toBe(123400);
  });
});

describe("quantities and durations", () => {
  it("shows thousandths as units", () => {
    expect(formatQuantity(1000, "pt-BR")).toBe("1");
    expect(formatQuantity(1250, "pt-BR")).toBe("1,25");
    expect(formatQuantity(1250, "en")).toBe("1.25");
    expect(parseQuantity("1,5")).toBe(1500);
    expect(parseQuantity("0.250")).toBe(250);
    expect(parseQuantity("2")).toBe(2000);
    expect(parseQuantity("1,2345")).toBeNull();
  });
  it("counts down in hours, minutes and seconds", () => {
    expect(formatDuration(3_900_000)).toBe("1 h 05 min");
    expect(formatDuration(250_000)).toBe("4 min 10 s");
    expect(formatDuration(-5)).toBe("0 s");
  });
});
