// Buckets for the owner's charts (pure, tested): integer centavos summed per hour and per day.

export interface SaleLike {
  recorded_at: number; // ms since the epoch
  total_cents: number;
}

/// Totals per local hour (0–23) of the sales recorded on `day` (local date of `day`).
export function salesPerHour(sales: SaleLike[], day: Date): { count: number[]; cents: number[] } {
  const count = new Array<number>(24).fill(0);
  const cents = new Array<number>(24).fill(0);
  for (const s of sales) {
    const d = new Date(s.recorded_at);
    if (d.getFullYear() !== day.getFullYear() || d.getMonth() !== day.getMonth() || d.getDate() !== day.getDate()) continue;
    count[d.getHours()] += 1;
    cents[d.getHours()] += s.total_cents;
  }
  return { count, cents };
}

function dayKey(d: Date): string {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

/// Totals for each of the `days` local days ending at `today`, oldest first.
export function salesPerDay(sales: SaleLike[], today: Date, days: number): { days: string[]; cents: number[]; count: number[] } {
  const keys: string[] = [];
  for (let i = days - 1; i >= 0; i--) {
    const d = new Date(today.getFullYear(), today.getMonth(), today.getDate() - i);
    keys.push(dayKey(d));
  }
  const index = new Map(keys.map((k, i) => [k, i]));
  const cents = new Array<number>(days).fill(0);
  const count = new Array<number>(days).fill(0);
  for (const s of sales) {
    const i = index.get(dayKey(new Date(s.recorded_at)));
    if (i === undefined) continue;
    cents[i] += s.total_cents;
    count[i] += 1;
  }
  return { days: keys, cents, count };
}
