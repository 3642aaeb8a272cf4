// TEMPORARY hand copy until the generated bindings replace it.
import type { Money } from "./Money";
import type { TicketLineView } from "./TicketLineView";

export type TicketView = { lines: Array<TicketLineView>, gross: Money, discount: Money, total: Money, discount_basis_points: number, consumer_tax_id: string | null, customer_id: string | null, };
