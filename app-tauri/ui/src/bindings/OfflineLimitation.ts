// TEMPORARY hand copy until the generated bindings replace it.

export type OfflineLimitation = { feature: string, reason: string, };
