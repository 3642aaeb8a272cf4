// TEMPORARY hand copy until the generated bindings replace it.

export type Role = "seller" | "manager" | "owner";
