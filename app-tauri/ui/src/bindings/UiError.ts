// TEMPORARY hand copy until the generated bindings replace it.

export type UiError = { code: string, fields: { [key in string]?: string }, message: string, };
