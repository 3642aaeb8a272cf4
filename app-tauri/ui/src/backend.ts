import type { CancellationOutcome } from "./bindings/CancellationOutcome";
import type { ConsumerCorrection } from "./bindings/ConsumerCorrection";
import type { LineFiscalCorrection } from "./bindings/LineFiscalCorrection";
import type { NoteSummary } from "./bindings/NoteSummary";
import type { NoteToCorrect } from "./bindings/NoteToCorrect";
import type { TransmissionSummary } from "./bindings/TransmissionSummary";
import type { VoidedRange } from "./bindings/VoidedRange";
// One interface for everything the window asks of the store. `tauriBackend` calls the app's
// Rust commands over IPC; tests use an in-memory implementation of the same interface.
import type { AppInfo } from "./bindings/AppInfo";
import type { ApprovalInput } from "./bindings/ApprovalInput";
import type { BluetoothDevice } from "./bindings/BluetoothDevice";
import type { CardOfflineRisk } from "./bindings/CardOfflineRisk";
import type { ClosingReport } from "./bindings/ClosingReport";
import type { CountedAmount } from "./bindings/CountedAmount";
import type { CustomerView as Customer } from "./bindings/CustomerView";
import type { CustomerInput } from "./bindings/CustomerInput";
import type { Discount } from "./bindings/Discount";
import type { ImportReport } from "./bindings/ImportReport";
import type { OfflineSaleRow } from "./bindings/OfflineSaleRow";
import type { Operator } from "./bindings/Operator";
import type { OwnerInput } from "./bindings/OwnerInput";
import type { PaymentRequest } from "./bindings/PaymentRequest";
import type { PosStatus } from "./bindings/PosStatus";
import type { ProductView } from "./bindings/ProductView";
import type { QuitCheck } from "./bindings/QuitCheck";
import type { RegisterReports } from "./bindings/RegisterReports";
import type { RegisterView } from "./bindings/RegisterView";
import type { ReprintOutcome } from "./bindings/ReprintOutcome";
import type { SaleDetail } from "./bindings/SaleDetail";
import type { SaleOutcome } from "./bindings/SaleOutcome";
import type { SyncNowOutcome } from "./bindings/SyncNowOutcome";
import type { TicketView } from "./bindings/TicketView";
import type { UiError } from "./bindings/UiError";
import type { UserInput } from "./bindings/UserInput";
import type { AuditView } from "./bindings/server/AuditView";
import type { BranchView } from "./bindings/server/BranchView";
import type { CustomerView } from "./bindings/server/CustomerView";
import type { HubStatus } from "./bindings/server/HubStatus";
import type { DeviceView } from "./bindings/server/DeviceView";
import type { IssuedCode } from "./bindings/server/IssuedCode";
import type { LoginResponse } from "./bindings/server/LoginResponse";
import type { OverdraftItem } from "./bindings/server/OverdraftItem";
import type { OversoldItem } from "./bindings/server/OversoldItem";
import type { ProductView as CatalogProduct } from "./bindings/server/ProductView";
import type { SaleView } from "./bindings/server/SaleView";
import type { UserView } from "./bindings/server/UserView";

export type { CatalogProduct };

export interface ImportProgress {
  done: number;
  total: number;
}

export interface Backend {
  appInfo(): Promise<AppInfo>;
  status(): Promise<PosStatus>;
  onStatus(listener: (s: PosStatus) => void): Promise<() => void>;
  signedIn(): Promise<Operator | null>;
  signIn(login: string, pin: string): Promise<Operator>;
  signOut(): Promise<void>;
  registerSession(): Promise<RegisterView | null>;
  openRegister(float: number, manager: ApprovalInput | null): Promise<RegisterView>;
  closeRegister(counted: CountedAmount[], manager: ApprovalInput | null): Promise<ClosingReport>;
  ticket(): Promise<TicketView>;
  scan(code: string, quantity: number | null): Promise<TicketView>;
  searchProducts(text: string, limit: number): Promise<ProductView[]>;
  setQuantity(line: number, quantity: number): Promise<TicketView>;
  voidLine(line: number, manager: ApprovalInput | null): Promise<TicketView>;
  setLineDiscount(line: number, discount: Discount | null, manager: ApprovalInput | null): Promise<TicketView>;
  setSaleDiscount(discount: Discount | null, manager: ApprovalInput | null): Promise<TicketView>;
  setConsumerTaxId(taxId: string | null): Promise<TicketView>;
  clearTicket(): Promise<TicketView>;
  searchCustomers(text: string): Promise<Customer[]>;
  setCustomer(customer: string | null): Promise<Customer | null>;
  cardOfflineRisk(amount: number): Promise<CardOfflineRisk>;
  acceptCardOfflineRisk(): Promise<void>;
  checkout(payments: PaymentRequest[]): Promise<SaleOutcome>;
  lastReceiptPng(): Promise<string | null>;
  enterContingency(justification: string, manager: ApprovalInput): Promise<void>;
  offlineSales(): Promise<OfflineSaleRow[]>;
  saleDetail(sale: string): Promise<SaleDetail>;
  reprint(sale: string): Promise<ReprintOutcome>;
  cancelUnsyncedSale(sale: string, reason: string, manager: ApprovalInput | null): Promise<void>;
  syncNow(): Promise<SyncNowOutcome>;
  notesToCorrect(): Promise<NoteToCorrect[]>;
  correctNote(sale: string, lines: LineFiscalCorrection[], consumer: ConsumerCorrection, manager: ApprovalInput | null): Promise<NoteSummary>;
  resendNotes(): Promise<TransmissionSummary>;
  cancelNote(sale: string, justification: string, manager: ApprovalInput | null): Promise<CancellationOutcome>;
  /// Cancels another authorized note (event 110112) that this sale's authorized note replaces.
  cancelBySubstitution(sale: string, supersededKey: string, justification: string, manager: ApprovalInput | null): Promise<CancellationOutcome>;
  unusedFiscalNumbers(): Promise<number[]>;
  voidUnusedNumbers(justification: string, manager: ApprovalInput | null): Promise<VoidedRange[]>;
  setStoreLink(up: boolean): Promise<boolean>;
  bluetoothScan(): Promise<BluetoothDevice[]>;
  quitCheck(): Promise<QuitCheck>;
  registerReports(owner: OwnerInput): Promise<RegisterReports>;
  // Back office (the store server's API).
  boLogin(login: string, password: string): Promise<LoginResponse>;
  boProducts(search: string, offset: number, limit: number): Promise<CatalogProduct[]>;
  /// How many products `boProducts` pages through for this search.
  boProductCount(search: string): Promise<number>;
  boImportCsv(csv: string): Promise<ImportReport>;
  onImportProgress(listener: (p: ImportProgress) => void): Promise<() => void>;
  boBranches(): Promise<BranchView[]>;
  boSetBranchPrice(branch: string, product: string, price: number): Promise<unknown>;
  boCustomers(): Promise<CustomerView[]>;
  boSaveCustomer(customer: CustomerInput): Promise<unknown>;
  boUsers(): Promise<UserView[]>;
  boCreateUser(user: UserInput): Promise<unknown>;
  boDevices(): Promise<DeviceView[]>;
  /// The store hub's state as the signed-in server sees it.
  boHub(): Promise<HubStatus>;
  boRevokeDevice(device: string): Promise<unknown>;
  boEnrollmentCode(branch: string, series: number): Promise<IssuedCode>;
  boSettings(): Promise<Record<string, string>>;
  boPutSetting(key: string, value: string): Promise<unknown>;
  boSales(): Promise<SaleView[]>;
  boOversold(): Promise<OversoldItem[]>;
  boOverdraft(): Promise<OverdraftItem[]>;
  boAudit(): Promise<AuditView[]>;
}

/// A command's refusal as the UI handles it: always a stable code and its fields.
export function asUiError(e: unknown): UiError {
  if (e && typeof e === "object" && "code" in e) {
    const o = e as { code: unknown; fields?: unknown; message?: unknown };
    return {
      code: String(o.code),
      fields: (o.fields as Record<string, string>) ?? {},
      message: String(o.message ?? ""),
    };
  }
  return { code: "internal", fields: { detail: String(e) }, message: String(e) };
}
