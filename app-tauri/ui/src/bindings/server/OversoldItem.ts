// TEMPORARY hand copy until the generated bindings replace it.
import type { FlaggedSale } from "./FlaggedSale";

export type OversoldItem = { branch_id: string, product_id: string, product_name: string | null, quantity: number, sales: Array<FlaggedSale>, };
