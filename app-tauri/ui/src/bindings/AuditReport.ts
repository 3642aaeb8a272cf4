// TEMPORARY hand copy until the generated bindings replace it.
import type { AuditRow } from "./AuditRow";

export type AuditReport = { entries: Array<AuditRow>, chain_intact: boolean, verification: string, };
