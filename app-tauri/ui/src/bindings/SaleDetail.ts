// TEMPORARY hand copy until the generated bindings replace it.
import type { Money } from "./Money";
import type { OfflineSaleRow } from "./OfflineSaleRow";
import type { SaleLineRow } from "./SaleLineRow";
import type { SalePaymentRow } from "./SalePaymentRow";

export type SaleDetail = { row: OfflineSaleRow, lines: Array<SaleLineRow>, payments: Array<SalePaymentRow>, change: Money, consumer_tax_id: string | null, };
