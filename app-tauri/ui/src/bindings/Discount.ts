// TEMPORARY hand copy until the generated bindings replace it.
import type { Money } from "./Money";

export type Discount = { "kind": "amount", "value": Money } | { "kind": "percent", "value": number };
