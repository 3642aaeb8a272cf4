// TEMPORARY hand copy until the generated bindings replace it.

export type SefazMode = "Normal" | "ContingencyRequired" | "Contingency" | "Draining";
