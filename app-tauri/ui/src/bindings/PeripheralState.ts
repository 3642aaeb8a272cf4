// TEMPORARY hand copy until the generated bindings replace it.

export type PeripheralState = "NotConfigured" | "Ready" | { "NeedsAttention": { reason: string, } } | "Disconnected";
