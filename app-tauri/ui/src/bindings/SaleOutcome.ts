// TEMPORARY hand copy until the generated bindings replace it.
import type { Money } from "./Money";
import type { NoteSummary } from "./NoteSummary";
import type { SaleId } from "./SaleId";

export type SaleOutcome = { sale_id: SaleId, local_number: number, total: Money, change: Money, note: NoteSummary | null, receipt_bytes: number, printed: boolean, print_error: string | null, };
