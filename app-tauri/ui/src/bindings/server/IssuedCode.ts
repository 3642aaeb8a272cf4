// TEMPORARY hand copy until the generated bindings replace it.

export type IssuedCode = { code: string, branch_id: string, nfce_series: number, expires_at: number, };
