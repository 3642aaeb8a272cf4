// TEMPORARY hand copy until the generated bindings replace it.

export type PullProgress = { received: number, total: number | null, };
