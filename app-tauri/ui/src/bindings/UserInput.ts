// TEMPORARY hand copy until the generated bindings replace it.

export type UserInput = { name: string, login: string, role: string, secret: string, };
