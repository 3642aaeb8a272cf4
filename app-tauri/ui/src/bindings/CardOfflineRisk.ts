// TEMPORARY hand copy until the generated bindings replace it.
import type { Money } from "./Money";

export type CardOfflineRisk = { offline: boolean, notice: string, allowed: boolean, refusal: string | null, per_payment_limit: Money, pending_total: Money, total_pending_limit: Money, pending_count: number, };
