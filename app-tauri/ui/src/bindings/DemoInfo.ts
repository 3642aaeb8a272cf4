// TEMPORARY hand copy until the generated bindings replace it.
import type { DemoUser } from "./DemoUser";

export type DemoInfo = { users: Array<DemoUser>, owner_login: string, owner_password: string, sample_codes: Array<string>, catalog_size: number, link_up: boolean, };
