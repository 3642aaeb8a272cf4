// TEMPORARY hand copy until the generated bindings replace it.
import type { ClosingLine } from "./ClosingLine";
import type { Money } from "./Money";

export type ClosingReport = { float: Money, cash_in: Money, cash_out: Money, sales_count: number, lines: Array<ClosingLine>, total_difference: Money, };
