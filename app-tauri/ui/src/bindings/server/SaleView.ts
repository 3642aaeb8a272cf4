// TEMPORARY hand copy until the generated bindings replace it.

export type SaleView = { id: string, folio: number, branch_id: string, device_id: string, device_seq: number, local_number: string | null, customer_id: string | null, total_cents: number, on_account_cents: number, fiscal_status: string, access_key: string | null, recorded_at: number, received_at: number, };
