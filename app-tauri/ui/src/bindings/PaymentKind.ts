// TEMPORARY hand copy until the generated bindings replace it.

export type PaymentKind = "Cash" | "Card" | "Pix" | "CustomerAccount";
