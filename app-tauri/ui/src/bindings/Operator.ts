// TEMPORARY hand copy until the generated bindings replace it.
import type { Role } from "./Role";
import type { UserId } from "./UserId";

export type Operator = { user_id: UserId, name: string, role: Role, };
