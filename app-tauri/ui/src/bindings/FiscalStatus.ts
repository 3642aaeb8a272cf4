// TEMPORARY hand copy until the generated bindings replace it.

export type FiscalStatus = "pending" | "authorized" | "rejected" | "denied" | "cancelled";
