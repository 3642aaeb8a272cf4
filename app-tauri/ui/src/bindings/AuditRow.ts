// TEMPORARY hand copy until the generated bindings replace it.

export type AuditRow = { seq: number, actor: string, action: string, subject: string, outcome: string, at: string, hash: string, };
