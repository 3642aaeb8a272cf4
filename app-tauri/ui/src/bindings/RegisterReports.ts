// TEMPORARY hand copy until the generated bindings replace it.
import type { AuditReport } from "./AuditReport";
import type { ContingencyNoteRow } from "./ContingencyNoteRow";
import type { SalesByMethodRow } from "./SalesByMethodRow";

export type RegisterReports = { sales_by_method: Array<SalesByMethodRow>, contingency_notes: Array<ContingencyNoteRow>, audit: AuditReport, };
