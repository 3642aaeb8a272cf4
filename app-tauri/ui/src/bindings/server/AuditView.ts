// TEMPORARY hand copy until the generated bindings replace it.

export type AuditView = { actor: string, action: string, subject: string, outcome: string, at: number, };
