// TEMPORARY hand copy until the generated bindings replace it.
import type { Money } from "./Money";

export type CustomerInput = { id: string | null, name: string, tax_id: string | null, overdraft_limit: Money, version: number | null, };
