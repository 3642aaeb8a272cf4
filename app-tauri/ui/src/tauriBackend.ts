import { invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import type { Backend, ImportProgress } from "./backend";
import { asUiError } from "./backend";
import type { PosStatus } from "./bindings/PosStatus";

// Tauri passes command arguments by name (camelCase here, snake_case in Rust).
async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (e) {
    throw asUiError(e);
  }
}

export const tauriBackend: Backend = {
  appInfo: () => call("app_info"),
  status: () => call("status"),
  onStatus: (listener) => listen<PosStatus>("status", (e) => listener(e.payload)),
  signedIn: () => call("signed_in"),
  signIn: (login, pin) => call("sign_in", { login, pin }),
  signOut: () => call("sign_out"),
  registerSession: () => call("register_session"),
  openRegister: (float, manager) => call("open_register", { float, manager }),
  closeRegister: (counted, manager) => call("close_register", { counted, manager }),
  ticket: () => call("ticket"),
  scan: (code, quantity) => call("scan", { code, quantity }),
  searchProducts: (text, limit) => call("search_products", { text, limit }),
  setQuantity: (line, quantity) => call("set_quantity", { line, quantity }),
  voidLine: (line, manager) => call("void_line", { line, manager }),
  setLineDiscount: (line, discount, manager) => call("set_line_discount", { line, discount, manager }),
  setSaleDiscount: (discount, manager) => call("set_sale_discount", { discount, manager }),
  setConsumerTaxId: (taxId) => call("set_consumer_tax_id", { taxId }),
  clearTicket: () => call("clear_ticket"),
  searchCustomers: (text) => call("search_customers", { text }),
  setCustomer: (customer) => call("set_customer", { customer }),
  cardOfflineRisk: (amount) => call("card_offline_risk", { amount }),
  acceptCardOfflineRisk: () => call("accept_card_offline_risk"),
  checkout: (payments) => call("checkout", { payments }),
  lastReceiptPng: () => call("last_receipt_png"),
  enterContingency: (justification, manager) => call("enter_contingency", { justification, manager }),
  offlineSales: () => call("offline_sales"),
  saleDetail: (sale) => call("sale_detail", { sale }),
  reprint: (sale) => call("reprint", { sale }),
  cancelUnsyncedSale: (sale, reason, manager) => call("cancel_unsynced_sale", { sale, reason, manager }),
  syncNow: () => call("sync_now"),
  setStoreLink: (up) => call("set_store_link", { up }),
  notesToCorrect: () => call("notes_to_correct"),
  correctNote: (sale, lines, consumer, manager) => call("correct_note", { sale, lines, consumer, manager }),
  resendNotes: () => call("resend_notes"),
  cancelNote: (sale, justification, manager) => call("cancel_note", { sale, justification, manager }),
  cancelBySubstitution: (sale, supersededKey, justification, manager) =>
    call("cancel_by_substitution", { sale, supersededKey, justification, manager }),
  unusedFiscalNumbers: () => call("unused_fiscal_numbers"),
  voidUnusedNumbers: (justification, manager) => call("void_unused_numbers", { justification, manager }),
  bluetoothScan: () => call("bluetooth_scan"),
  quitCheck: () => call("quit_check"),
  registerReports: (owner) => call("register_reports", { owner }),
  boLogin: (login, password) => call("bo_login", { login, password }),
  boProducts: (search, offset, limit) => call("bo_products", { search, offset, limit }),
  boProductCount: (search) => call("bo_product_count", { search }),
  boImportCsv: (csv) => call("bo_import_csv", { csv }),
  onImportProgress: (listener) => listen<ImportProgress>("import_progress", (e) => listener(e.payload)),
  boBranches: () => call("bo_branches"),
  boSetBranchPrice: (branch, product, price) => call("bo_set_branch_price", { branch, product, price }),
  boCustomers: () => call("bo_customers"),
  boSaveCustomer: (customer) => call("bo_save_customer", { customer }),
  boUsers: () => call("bo_users"),
  boCreateUser: (user) => call("bo_create_user", { user }),
  boDevices: () => call("bo_devices"),
  boHub: () => call("bo_hub"),
  boRevokeDevice: (device) => call("bo_revoke_device", { device }),
  boEnrollmentCode: (branch, series) => call("bo_enrollment_code", { branch, series }),
  boSettings: () => call("bo_settings"),
  boPutSetting: (key, value) => call("bo_put_setting", { key, value }),
  boSales: () => call("bo_sales"),
  boOversold: () => call("bo_oversold"),
  boOverdraft: () => call("bo_overdraft"),
  boAudit: () => call("bo_audit"),
};
