// TEMPORARY hand copy until the generated bindings replace it.
import type { Money } from "./Money";
import type { SaleId } from "./SaleId";
import type { SaleNoteState } from "./SaleNoteState";

export type OfflineSaleRow = { sale_id: SaleId, local_number: number, created_at: string, total: Money, synced: boolean, voided: boolean, note: SaleNoteState | null, };
