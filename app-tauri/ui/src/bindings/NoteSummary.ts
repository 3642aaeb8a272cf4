// TEMPORARY hand copy until the generated bindings replace it.
import type { FiscalStatus } from "./FiscalStatus";

export type NoteSummary = { number: number, series: number, access_key: string, status: FiscalStatus, contingency: boolean, deadline: string | null, qr_code: string, };
