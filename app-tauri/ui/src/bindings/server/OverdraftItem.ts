// TEMPORARY hand copy until the generated bindings replace it.
import type { FlaggedSale } from "./FlaggedSale";

export type OverdraftItem = { customer_id: string, customer_name: string | null, balance_cents: number, overdraft_limit_cents: number, sales: Array<FlaggedSale>, };
