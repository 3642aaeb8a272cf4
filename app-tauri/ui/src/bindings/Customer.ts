// TEMPORARY hand copy until the generated bindings replace it.
import type { CustomerId } from "./CustomerId";
import type { Money } from "./Money";

export type Customer = { id: CustomerId, name: string, tax_id: string | null, phone: string | null, email: string | null, balance: Money, overdraft_limit: Money, active: boolean, version: number, };
