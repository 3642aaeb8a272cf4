// TEMPORARY hand copy until the generated bindings replace it.

export type TransmissionSummary = { sent: number, authorized: number, authorized_late: number, rejected: number, denied: number, deferred: number, remaining: number, sefaz_available: boolean, };
