// TEMPORARY hand copy until the generated bindings replace it.

export type UserView = { id: string, name: string, login: string, role: string, active: boolean, version: number, };
