// TEMPORARY hand copy until the generated bindings replace it.
import type { Money } from "./Money";

export type SaleLineRow = { name: string, sku: string, quantity_thousandths: number, unit: string, unit_price: Money, discount: Money, total: Money, };
