// An in-memory store behind the same `Backend` interface, for Vitest (and for trying the UI in
// a plain browser). It keeps the counter's observable rules small and explicit: PIN with
// lockout, unknown codes, totals in centavos, cash with change.
import type { Backend } from "./backend";
import type { PosStatus } from "./bindings/PosStatus";
import type { ProductView } from "./bindings/ProductView";
import type { RegisterView } from "./bindings/RegisterView";
import type { TicketView } from "./bindings/TicketView";
import type { UiError } from "./bindings/UiError";

const refuse = (code: string, fields: Record<string, string> = {}): UiError => ({ code, fields, message: code });

export function mockBackend(products: ProductView[] = sampleProducts(), catalogSize = 300_000): Backend & { failures: number } {
  let failures = 0;
  let lockedUntil = 0;
  let operator: { user_id: string; name: string; role: "seller" | "manager" | "owner" } | null = null;
  let session: RegisterView | null = null;
  let lines: TicketView["lines"] = [];
  let sales = 0;
  let customerId: string | null = null;
  const customers = [
    { id: "c1", name: "Maria Souza", tax_id: "52998224725", phone: null, email: null, balance: -1_200, overdraft_limit: 50_000, active: true, version: 1 },
  ];
  const status: PosStatus = {
    link: "Online",
    sefaz: "Normal",
    pending_sync: 0,
    pending_notes: 0,
    nearest_deadline: null,
    deadline_alarm: null,
    notes_needing_correction: 0,
    printer: "Ready",
    card_reader: "Ready",
    last_sync: null,
    pull: null,
    initial_load_complete: true,
    sync_refused: null,
    unavailable: [],
  };
  const ticket = (): TicketView => {
    const gross = lines.reduce((s, l) => s + l.gross, 0);
    return { lines, gross, discount: 0, total: gross, discount_basis_points: 0, consumer_tax_id: null, customer_id: customerId };
  };
  const unsupported = async (): Promise<never> => {
    throw refuse("internal", { detail: "not in the mock" });
  };
  const backend: Backend & { failures: number } = {
    get failures() {
      return failures;
    },
    appInfo: async () => ({
      store_name: "Mercadinho Teste",
      device_name: "Caixa 1",
      server_url: "http://127.0.0.1:1",
      locale: "pt-BR",
      currency: "BRL",
      demo: {
        users: [
          { name: "Bia", login: "bia", role: "seller", pin: "1357" },
          { name: "Caio", login: "caio", role: "manager", pin: "2468" },
        ],
        owner_login: "dona",
        owner_password: "x",
        sample_codes: products.map((p) => p.gtin ?? p.sku),
        catalog_size: products.length,
        link_up: true,
      },
    }),
    status: async () => status,
    onStatus: async () => () => undefined,
    signedIn: async () => operator,
    signIn: async (login, pin) => {
      if (Date.now() < lockedUntil) throw refuse("locked_out", { until: new Date(lockedUntil).toISOString() });
      if (login !== "bia" || pin !== "1357") {
        failures += 1;
        if (failures >= 5) {
          lockedUntil = Date.now() + 5 * 60_000;
          throw refuse("locked_out", { until: new Date(lockedUntil).toISOString() });
        }
        throw refuse("wrong_credentials", { remaining_attempts: String(5 - failures) });
      }
      failures = 0;
      operator = { user_id: "u1", name: "Bia", role: "seller" };
      return operator;
    },
    signOut: async () => {
      if (lines.length > 0) throw refuse("ticket_open");
      operator = null;
    },
    registerSession: async () => session,
    openRegister: async (float, manager) => {
      // As the standard permission matrix has it: a seller needs a manager to open the register.
      if (!manager) throw refuse("forbidden", { permission: "open_register" });
      if (manager.login !== "caio" || manager.pin !== "2468") throw refuse("wrong_credentials", { remaining_attempts: "4" });
      const taken = (["Cash", "Card", "Pix", "CustomerAccount"] as const).map((kind) => ({ kind, amount: 0 }));
      session = { id: "r1", opened_by: "u1", opened_at: new Date().toISOString(), float, cash_in: 0, cash_out: 0, sales_count: 0, expected_cash: float, taken };
      return session;
    },
    closeRegister: async (counted, manager) => {
      if (!session) throw refuse("invalid_state", { operation: "close register", reason: "the register is not open" });
      if (!manager) throw refuse("forbidden", { permission: "close_register" });
      // As the core does it: a kind not counted is taken as expected.
      const open = session;
      const lines = open.taken.map(({ kind, amount }) => {
        const expected = kind === "Cash" ? open.expected_cash : amount;
        const given = counted.filter((c) => c.kind === kind);
        const countedAmount = given.length > 0 ? given.reduce((sum, c) => sum + c.amount, 0) : expected;
        return { kind, expected, counted: countedAmount, difference: countedAmount - expected };
      });
      session = null;
      const total_difference = lines.reduce((sum, l) => sum + l.difference, 0);
      return { float: open.float, cash_in: open.cash_in, cash_out: open.cash_out, sales_count: open.sales_count, lines, total_difference };
    },
    ticket: async () => ticket(),
    scan: async (code) => {
      const p = products.find((x) => x.gtin === code || x.sku === code);
      if (!p) throw refuse("not_found", { what: `product ${code}` });
      lines = [...lines, { index: lines.length, name: p.name, quantity_thousandths: 1000, unit: p.unit, unit_price: p.price, gross: p.price, discount: 0, total: p.price }];
      return ticket();
    },
    searchProducts: async (text, limit) => products.filter((p) => p.name.toLowerCase().includes(text.toLowerCase())).slice(0, limit),
    setQuantity: unsupported,
    voidLine: unsupported,
    setLineDiscount: unsupported,
    setSaleDiscount: unsupported,
    setConsumerTaxId: async (taxId) => {
      if (taxId && !/^\d{11}$|^\d{14}$/.test(taxId.replace(/\D/g, ""))) throw refuse("invalid_input", { field: "consumer_tax_id", reason: "check digits" });
      return { ...ticket(), consumer_tax_id: taxId };
    },
    clearTicket: async () => {
      lines = [];
      return ticket();
    },
    searchCustomers: async (text) => customers.filter((c) => c.name.toLowerCase().includes(text.toLowerCase())),
    setCustomer: async (id) => {
      customerId = id;
      return customers.find((c) => c.id === id) ?? null;
    },
    cardOfflineRisk: unsupported,
    acceptCardOfflineRisk: unsupported,
    checkout: async (payments) => {
      const total = ticket().total;
      const paid = payments.reduce((s, p) => s + ("Cash" in p ? p.Cash.amount : "Card" in p ? p.Card.amount : 0), 0);
      if (paid !== total) throw refuse("invalid_input", { field: "payments", reason: "do not add up" });
      const change = payments.reduce((s, p) => s + ("Cash" in p ? p.Cash.tendered - p.Cash.amount : 0), 0);
      lines = [];
      sales += 1;
      return { sale_id: `s${sales}`, local_number: sales, total, change, note: null, receipt_bytes: 100, printed: true, print_error: null };
    },
    lastReceiptPng: async () => null,
    enterContingency: unsupported,
    offlineSales: async () => [],
    saleDetail: unsupported,
    reprint: unsupported,
    cancelUnsyncedSale: unsupported,
    notesToCorrect: async () => [],
    correctNote: unsupported,
    resendNotes: unsupported,
    cancelNote: unsupported,
    cancelBySubstitution: unsupported,
    unusedFiscalNumbers: async () => [],
    voidUnusedNumbers: unsupported,
    syncNow: unsupported,
    setStoreLink: async (up) => up,
    bluetoothScan: async () => {
      throw refuse("bluetooth_unavailable");
    },
    quitCheck: async () => ({ unsynced_sales: 0, pending_notes: 0 }),
    registerReports: async () => ({
      sales_by_method: [
        { day: "2026-01-10", kind: "Cash", sales: 3, amount: 12_350 },
        { day: "2026-01-10", kind: "Card", sales: 2, amount: 8_990 },
      ],
      contingency_notes: [],
      audit: { entries: [], chain_intact: true, verification: "0 entries" },
    }),
    // The back office over a synthetic store: a catalog of `catalogSize` products made on demand.
    boLogin: async () => ({ token: "t", user_id: "u0", role: "owner", expires_at: 0 }),
    boProductCount: async (search) => {
      if (!search) return catalogSize;
      let n = 0;
      for (let i = 0; i < catalogSize; i++) if (`Produto ${String(i).padStart(6, "0")}`.toLowerCase().includes(search.toLowerCase())) n++;
      return n;
    },
    boProducts: async (search, offset, limit) => {
      const out = [];
      for (let i = offset; i < Math.min(catalogSize, offset + limit); i++) {
        const name = `Produto ${String(i).padStart(6, "0")}`;
        if (search && !name.toLowerCase().includes(search.toLowerCase())) continue;
        out.push({ id: `p${i}`, sku: `SKU${String(i).padStart(6, "0")}`, gtin: null, name, unit: "UN", price_cents: 100 + (i % 5000), fiscal: {}, active: true, version: 1 });
      }
      return out;
    },
    boImportCsv: async (csv) => {
      const rows = csv.split("\n").slice(1).filter((l) => l.trim());
      const errors = rows.flatMap((r, i) => (r.split(",")[4] && isNaN(Number(r.split(",")[4])) ? [{ line: i + 2, message: "price: not a number" }] : []));
      return { imported: rows.length - errors.length, errors };
    },
    onImportProgress: async () => () => undefined,
    boBranches: async () => [{ id: "b1", name: "Matriz" }],
    boSetBranchPrice: async () => ({}),
    boCustomers: async () => [{ id: "c1", name: "Maria", tax_id: "52998224725", phone: null, overdraft_limit_cents: 50_000, balance_cents: -1_200, active: true, version: 1 }],
    boSaveCustomer: async () => ({}),
    boUsers: async () => [{ id: "u1", name: "Bia", login: "bia", role: "seller", active: true, version: 1 }],
    boCreateUser: async () => ({}),
    boHub: async () => ({
      role: "hub",
      link: { upstream: "https://nuvem.tenda.example", online: false, last_contact_at: Date.now() - 90_000, last_error: "connection refused", revoked: false, relayed: 1_204 },
      backlog: 37,
      oldest_queued_at: Date.now() - 80_000,
      tills: [
        { device_id: "d1", name: "Caixa 1", revoked: false, last_contact_at: Date.now() - 2_000, connected: true, backlog: 21 },
        { device_id: "d2", name: "Caixa 2", revoked: false, last_contact_at: Date.now() - 4_000, connected: true, backlog: 16 },
      ],
    }),
    boDevices: async () => [{ id: "d1", name: "Caixa 1", branch_id: "b1", nfce_series: 1, last_seq: 10, revoked: false, enrolled_at: Date.now(), last_seen_at: Date.now() }],
    boRevokeDevice: async () => ({}),
    boEnrollmentCode: async () => ({ code: "ABCD-EFGH-IJKL", branch_id: "b1", nfce_series: 2, expires_at: Date.now() + 3_600_000 }),
    boSettings: async () => ({ "policy.seller_discount_limit_bp": "500" }),
    boPutSetting: async (key, value) => {
      if (key.endsWith("_bp") && !/^\d+$/.test(value)) throw refuse("invalid_input", { field: key, reason: "must be a whole number of basis points" });
      return {};
    },
    boSales: async () => {
      const now = Date.now();
      return Array.from({ length: 40 }, (_, i) => ({
        id: `s${i}`, folio: i + 1, branch_id: "b1", device_id: "d1", device_seq: i + 1, local_number: String(i + 1), customer_id: null,
        total_cents: 1_000 + ((i * 7919) % 9_000), on_account_cents: 0, fiscal_status: "authorized", access_key: null,
        recorded_at: now - ((i * 37) % 72) * 3_600_000 / 3, received_at: now,
      }));
    },
    boOversold: async () => [],
    boOverdraft: async () => [],
    boAudit: async () => [{ actor: "dona", action: "setting.put", subject: "policy.seller_discount_limit_bp", outcome: "ok", at: Date.now() }],
  };
  return backend;
}

export function sampleProducts(): ProductView[] {
  return [
    { id: "p1", sku: "SKU000001", gtin: "7891000000017", name: "Arroz Tipo 1 5kg", unit: "UN", weighed: false, price: 2490, stock_thousandths: 10000 },
    { id: "p2", sku: "SKU000002", gtin: "7891000000024", name: "Feijão Carioca 1kg", unit: "UN", weighed: false, price: 899, stock_thousandths: 10000 },
  ];
}
