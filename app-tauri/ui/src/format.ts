// Formatting with Intl: money is integer centavos end to end; only display divides, and parsing
// builds centavos from the typed digits (never through a float).

/// Money, quantities and dates follow the store's locale and currency whatever language the
/// person reads (an NFC-e store in Brazil shows R$ 1.234,56 to everyone). Set from AppInfo.
export const store = { locale: "pt-BR", currency: "BRL" };

export function setStoreLocale(locale: string, currency: string) {
  store.locale = locale;
  store.currency = currency;
}

// Building an Intl.NumberFormat costs far more than formatting with one, and a ticket or a
// report formats hundreds of figures per paint: one formatter per locale and style.
const formatters = new Map<string, Intl.NumberFormat>();
function numberFormat(locale: string, currency?: string): Intl.NumberFormat {
  const key = `${locale}|${currency ?? ""}`;
  let fmt = formatters.get(key);
  if (!fmt) {
    fmt = new Intl.NumberFormat(locale, currency ? { style: "currency", currency } : undefined);
    formatters.set(key, fmt);
  }
  return fmt;
}

export function formatMoney(centavos: number, locale: string = store.locale, currency: string = store.currency): string {
  const fmt = numberFormat(locale, currency);
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
  const fmt = numberFormat(locale);
  const sep = fmt.formatToParts(1.5).find((p) => p.type === "decimal")?.value ?? ".";
  const w = fmt.format(whole);
  if (frac === 0) return w;
  return `${w}${sep}${String(frac).padStart(3, "0").replace(/0+$/, "")}`;
}

/// Parses "2", "1,5", "0.250" into thousandths, or null.
export function parseQuantity(text: string): number | null {
  const m = text.trim().match(/^(\d+)(?:[.,](\d{1,3}))?$/);
  if (!m) return null;
  return Number(m[1]) * 1000 + Number((m[2] ?? "").padEnd(3, "0"));
}

const dateFormatters = new Map<string, Intl.DateTimeFormat>();
function dateFormat(locale: string, style: "time" | "dateTime" | "dayMonth"): Intl.DateTimeFormat {
  const key = `${locale}|${style}`;
  let fmt = dateFormatters.get(key);
  if (!fmt) {
    const options: Intl.DateTimeFormatOptions =
      style === "time"
        ? { hour: "2-digit", minute: "2-digit" }
        : style === "dateTime"
          ? { dateStyle: "short", timeStyle: "short" }
          : { day: "2-digit", month: "2-digit" };
    fmt = new Intl.DateTimeFormat(locale, options);
    dateFormatters.set(key, fmt);
  }
  return fmt;
}

export function formatTime(iso: string | number | Date, locale: string = store.locale): string {
  return dateFormat(locale, "time").format(new Date(iso));
}

export function formatDateTime(iso: string | number | Date, locale: string = store.locale): string {
  return dateFormat(locale, "dateTime").format(new Date(iso));
}

/// "05/12" for a day given as "2026-12-05" (read at noon, so no time zone moves it a day).
export function formatDayMonth(day: string, locale: string = store.locale): string {
  return dateFormat(locale, "dayMonth").format(new Date(`${day}T12:00:00`));
}

export function formatNumber(n: number, locale: string = store.locale): string {
  return numberFormat(locale).format(n);
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
