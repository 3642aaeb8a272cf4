// TEMPORARY hand copy until the generated bindings replace it.
import type { ImportRowError } from "./ImportRowError";

export type ImportReport = { imported: number, errors: Array<ImportRowError>, };
