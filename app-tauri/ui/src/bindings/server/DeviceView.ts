// TEMPORARY hand copy until the generated bindings replace it.

export type DeviceView = { id: string, name: string, branch_id: string, nfce_series: number, last_seq: number, revoked: boolean, enrolled_at: number, last_seen_at: number | null, };
