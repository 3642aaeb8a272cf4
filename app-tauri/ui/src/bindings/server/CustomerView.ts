// TEMPORARY hand copy until the generated bindings replace it.

export type CustomerView = { id: string, name: string, tax_id: string | null, phone: string | null, overdraft_limit_cents: number, balance_cents: number, active: boolean, version: number, };
