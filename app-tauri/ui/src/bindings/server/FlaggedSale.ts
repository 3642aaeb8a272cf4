// TEMPORARY hand copy until the generated bindings replace it.

export type FlaggedSale = { sale_id: string, folio: number, device_id: string, amount_after: number, };
