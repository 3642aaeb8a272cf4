// TEMPORARY hand copy until the generated bindings replace it.
import type { TransmissionSummary } from "./TransmissionSummary";

export type SyncNowOutcome = { sync_requested: boolean, sync_unavailable: string | null, transmission: TransmissionSummary | null, };
