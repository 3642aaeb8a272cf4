// TEMPORARY hand copy until the generated bindings replace it.

export type DemoUser = { name: string, login: string, role: string, pin: string, };
