// TEMPORARY hand copy until the generated bindings replace it.

export type QuitCheck = { unsynced_sales: number, pending_notes: number, };
