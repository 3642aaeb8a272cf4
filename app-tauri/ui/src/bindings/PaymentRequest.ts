// TEMPORARY hand copy until the generated bindings replace it.
import type { CardKind } from "./CardKind";
import type { Money } from "./Money";

export type PaymentRequest = { "Cash": { amount: Money, tendered: Money, } } | { "Card": { amount: Money, kind: CardKind, } } | { "Pix": { amount: Money, txid: string | null, } } | { "CustomerAccount": { amount: Money, } };
