// TEMPORARY hand copy until the generated bindings replace it.

export type OwnerInput = { login: string, password: string, };
