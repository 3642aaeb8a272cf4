// TEMPORARY hand copy until the generated bindings replace it.
import type { Money } from "./Money";
import type { PaymentKind } from "./PaymentKind";

export type SalesByMethodRow = { day: string, kind: PaymentKind, sales: number, amount: Money, };
