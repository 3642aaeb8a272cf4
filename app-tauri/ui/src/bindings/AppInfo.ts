// TEMPORARY hand copy until the generated bindings replace it.
import type { DemoInfo } from "./DemoInfo";

export type AppInfo = { store_name: string, device_name: string, server_url: string, locale: string, currency: string, demo: DemoInfo | null, };
