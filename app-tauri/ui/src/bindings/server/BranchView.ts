// TEMPORARY hand copy until the generated bindings replace it.

export type BranchView = { id: string, name: string, };
