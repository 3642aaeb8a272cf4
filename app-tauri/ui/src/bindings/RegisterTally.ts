// TEMPORARY hand copy until the generated bindings replace it.
import type { Money } from "./Money";

export type RegisterTally = { float: Money, cash_in: Money, cash_out: Money, by_kind: [Money, Money, Money, Money], sales_count: number, };
