// TEMPORARY hand copy until the generated bindings replace it.
import type { RegisterSessionId } from "./RegisterSessionId";
import type { RegisterTally } from "./RegisterTally";
import type { UserId } from "./UserId";

export type RegisterSession = { id: RegisterSessionId, opened_by: UserId, opened_at: string, tally: RegisterTally, };
