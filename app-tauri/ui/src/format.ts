// Formatting with Intl: money is integer centavos end to end; only display divides, and parsing
// builds centavos from the typed digits (never through a float).

/// Money, quantities and dates follow the store's locale and currency whatever language the
/// person reads (an NFC-e store in Brazil shows R$ 1.234,56 to everyone). Set from AppInfo.
export const store = { locale: "pt-BR", currency: "BRL" };

export function setStoreLocale(locale: string, currency: string) {
  store.locale = locale;
  store.currency = currency;
}

export function formatMoney(centavos: number, locale: string = store.locale, currency: string = store.currency): string {
  const fmt = new Intl.NumberFormat(locale, { style: "currency", currency });
  // Split into integer reais and centavos so no fractional arithmetic happens on our side.
  const negative = centavos < 0;
  const abs = Math.abs(centavos);
  const whole = Math.trunc(abs / 100);
  const cents = abs % 100;
  const parts = fmt.formatToParts(whole);
  let out = "";
  for (const p of parts) {
    if (p.type === "fraction") out += String(cents).padStart(2, "0");
    else out += p.value;
  }
  return negative ? `-${out}` : out;
}

/// Parses what a person typed ("12,50", "12.50", "R$ 1.234,56", "7") into centavos, or null.
/// The decimal separator is the last "," or "." followed by one or two digits; any other
/// separator must group exactly three digits, so "46,80100,00" is refused, not read as 4.680.100.
export function parseMoney(text: string): number | null {
  const t = text.replace(/[^\d.,-]/g, "");
  if (!t || t === "-") return null;
  const negative = t.startsWith("-");
  const body = t.replace(/^-/, "");
  const m = body.match(/^(\d{1,3}(?:[.,]\d{3})*|\d+)(?:[.,](\d{1,2}))?$/);
  if (!m) return null;
  const value = Number(m[1].replace(/[.,]/g, "")) * 100 + Number((m[2] ?? "").padEnd(2, "0"));
  if (!Number.isSafeInteger(value)) return null;
  return negative ? -value : value;
}

/// Quantity in thousandths shown as units ("1", "1,25").
export function formatQuantity(thousandths: number, locale: string = store.locale): string {
  const whole = Math.trunc(thousandths / 1000);
  const frac = Math.abs(thousandths % 1000);
  const sep = new Intl.NumberFormat(locale).formatToParts(1.5).find((p) => p.type === "decimal")?.value ?? ".";
  const w = new Intl.NumberFormat(locale).format(whole);
  if (frac === 0) return w;
  return `${w}${sep}${String(frac).padStart(3, "0").replace(/0+$/, "")}`;
}

/// Parses "2", "1,5", "0.250" into thousandths, or null.
export function parseQuantity(text: string): number | null {
  const m = text.trim().match(/^(\d+)(?:[.,](\d{1,3}))?$/);
  if (!m) return null;
  return Number(m[1]) * 1000 + Number((m[2] ?? "").padEnd(3, "0"));
}

export function formatTime(iso: string | number | Date, locale: string = store.locale): string {
  return new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit" }).format(new Date(iso));
}

export function formatDateTime(iso: string | number | Date, locale: string = store.locale): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: "short", timeStyle: "short" }).format(new Date(iso));
}

export function formatNumber(n: number, locale: string = store.locale): string {
  return new Intl.NumberFormat(locale).format(n);
}

/// "1 h 05 min", "4 min 10 s" for a countdown of `ms`.
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h} h ${String(m).padStart(2, "0")} min`;
  if (m > 0) return `${m} min ${String(sec).padStart(2, "0")} s`;
  return `${sec} s`;
}
