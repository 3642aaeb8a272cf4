// TEMPORARY hand copy until the generated bindings replace it.

export type ApprovalInput = { login: string, pin: string, };
