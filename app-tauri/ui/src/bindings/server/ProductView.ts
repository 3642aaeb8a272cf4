// TEMPORARY hand copy until the generated bindings replace it.

export type ProductView = { id: string, sku: string, gtin: string | null, name: string, unit: string, price_cents: number, fiscal: any, active: boolean, version: number, };
