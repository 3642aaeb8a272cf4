// TEMPORARY hand copy until the generated bindings replace it.
import type { Money } from "./Money";

export type TicketLineView = { index: number, name: string, quantity_thousandths: number, unit: string, unit_price: Money, gross: Money, discount: Money, total: Money, };
