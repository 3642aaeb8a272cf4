// TEMPORARY hand copy until the generated bindings replace it.

export type ImportRowError = { line: number, message: string, };
