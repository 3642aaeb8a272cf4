// TEMPORARY hand copy until the generated bindings replace it.
import type { Money } from "./Money";

export type ProductView = { id: string, sku: string, gtin: string | null, name: string, unit: string, weighed: boolean, price: Money, stock_thousandths: number, };
