// TEMPORARY hand copy until the generated bindings replace it.

export type LoginResponse = { token: string, user_id: string, role: string, expires_at: number, };
