// TEMPORARY hand copy until the generated bindings replace it.

export type ReprintOutcome = { receipt_bytes: number, printed: boolean, print_error: string | null, };
