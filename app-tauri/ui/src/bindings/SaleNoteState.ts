// TEMPORARY hand copy until the generated bindings replace it.
import type { FiscalStatus } from "./FiscalStatus";

export type SaleNoteState = { number: number, series: number, access_key: string, status: FiscalStatus, contingency: boolean, deadline: string | null, protocol: string | null, rejection: string | null, };
