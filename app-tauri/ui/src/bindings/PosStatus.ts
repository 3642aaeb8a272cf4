// TEMPORARY hand copy until the generated bindings replace it.
import type { DeadlineAlarm } from "./DeadlineAlarm";
import type { LinkState } from "./LinkState";
import type { OfflineLimitation } from "./OfflineLimitation";
import type { PeripheralState } from "./PeripheralState";
import type { PullProgress } from "./PullProgress";
import type { SefazMode } from "./SefazMode";

export type PosStatus = { link: LinkState, sefaz: SefazMode, pending_sync: number, pending_notes: number, nearest_deadline: string | null, deadline_alarm: DeadlineAlarm | null, notes_needing_correction: number, printer: PeripheralState, card_reader: PeripheralState, last_sync: string | null, pull: PullProgress | null, initial_load_complete: boolean, sync_refused: string | null, unavailable: Array<OfflineLimitation>, };
