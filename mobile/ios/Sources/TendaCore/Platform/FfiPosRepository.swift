import Foundation
import Tenda

/// The repository over the generated Swift bindings; mirrors the Kotlin `FfiPosRepository`. Each
/// blocking core call runs on a detached task (never the main actor) and comes back as a
/// `Result` with the core's code. The status listener is an `AsyncStream` whose termination
/// drops the subscription handle, which stops delivery on the Rust side.
public final class FfiPosRepository: PosRepository, @unchecked Sendable {
    private let pos: Tenda.Pos
    private let lock = NSLock()
    private var latest: PosStatus
    /// Customers chosen for a ticket, to show the one on it by name.
    private var customers: [String: Customer] = [:]

    /// Opens an enrolled device's store; the database key comes from the host's `vault`. SEFAZ is
    /// reached at `sefaz` when given (homologation), else at the official address of the store's state.
    public static func open(dbPath: String, vault: KeyStore, keyAccount: String, sefaz: SefazAccess? = nil) async -> Result<FfiPosRepository, PosFailure> {
        await Self.call {
            var config = Tenda.openConfig(dbPath: dbPath, keyAccount: keyAccount)
            if let sefaz { config.sefaz = .at(access: sefaz) }
            return FfiPosRepository(pos: try Tenda.open(config: config, keyStore: vault, clock: nil))
        }
    }

    private init(pos: Tenda.Pos) {
        self.pos = pos
        latest = (try? pos.status()).map(Self.status) ?? .starting
    }

    public var currentStatus: PosStatus { lock.lock(); defer { lock.unlock() }; return latest }

    public func statusUpdates() -> AsyncStream<PosStatus> {
        AsyncStream(bufferingPolicy: .bufferingNewest(1)) { continuation in
            final class Listener: StatusListener {
                let onStatus: (Tenda.PosStatus) -> Void
                init(_ onStatus: @escaping (Tenda.PosStatus) -> Void) { self.onStatus = onStatus }
                func onStatus(status: Tenda.PosStatus) { onStatus(status) }
            }
            let listener = Listener { [weak self] status in
                let mapped = Self.status(status)
                self?.lock.lock(); self?.latest = mapped; self?.lock.unlock()
                continuation.yield(mapped)
            }
            guard let subscription = try? pos.subscribe(listener: listener) else { continuation.finish(); return }
            continuation.onTermination = { _ in subscription.cancel() }
        }
    }

    private static func call<T>(_ work: @escaping @Sendable () async throws -> T) async -> Result<T, PosFailure> {
        await Task.detached {
            do { return .success(try await work()) }
            catch let e as TendaError { return .failure(failure(e)) }
            catch { return .failure(.internalError(detail: String(describing: error))) }
        }.value
    }

    private func ticketView() throws -> Ticket { withCustomer(try pos.ticket()) }

    private func withCustomer(_ t: Tenda.TicketView) -> Ticket {
        lock.lock(); let customer = t.customerId.flatMap { customers[$0] }; lock.unlock()
        return Self.ticket(t, customer: customer)
    }

    public func signIn(login: String, pin: String) async -> Result<Operator, PosFailure> {
        await Self.call { let op = try self.pos.signIn(login: login, secret: .pin(pin)); return Operator(userId: op.userId, name: op.name, role: Role(op.role)) }
    }
    public func signOut() async -> Result<Void, PosFailure> { await Self.call { try self.pos.signOut() } }
    public func registerIsOpen() async -> Result<Bool, PosFailure> { await Self.call { try self.pos.registerSession() != nil } }
    public func openRegister(float: Money, approval: Approval?) async -> Result<Void, PosFailure> {
        await Self.call { try self.pos.openRegister(float: float.centavos, approval: approval.map(Self.approval)) }
    }
    public func ticket() async -> Result<Ticket, PosFailure> { await Self.call { try self.ticketView() } }
    public func scan(code: String) async -> Result<Ticket, PosFailure> { await Self.call { self.withCustomer(try self.pos.scanAndView(code: code)) } }
    public func searchProducts(text: String, limit: Int) async -> Result<[ProductView], PosFailure> {
        await Self.call { try self.pos.searchProducts(text: text, limit: UInt32(limit)).map(Self.product) }
    }
    public func addProduct(product: ProductView, quantityThousandths: Int64) async -> Result<Ticket, PosFailure> {
        // The SKU finds exactly this product, as a typed code would.
        await Self.call { _ = try self.pos.scan(code: product.sku, quantity: quantityThousandths); return try self.ticketView() }
    }
    public func setQuantity(line: Int, quantityThousandths: Int64) async -> Result<Ticket, PosFailure> {
        await Self.call { try self.pos.setQuantity(line: UInt32(line), quantity: quantityThousandths); return try self.ticketView() }
    }
    public func voidLine(line: Int, approval: Approval?) async -> Result<Ticket, PosFailure> {
        await Self.call { try self.pos.voidLine(line: UInt32(line), approval: approval.map(Self.approval)); return try self.ticketView() }
    }
    public func setLineDiscount(line: Int, discount: Discount?, approval: Approval?) async -> Result<Ticket, PosFailure> {
        await Self.call {
            try self.pos.setLineDiscount(line: UInt32(line), discount: discount.map(Self.discount), approval: approval.map(Self.approval))
            return try self.ticketView()
        }
    }
    public func setSaleDiscount(discount: Discount?, approval: Approval?) async -> Result<Ticket, PosFailure> {
        await Self.call { try self.pos.setSaleDiscount(discount: discount.map(Self.discount), approval: approval.map(Self.approval)); return try self.ticketView() }
    }
    public func searchCustomers(text: String, limit: Int) async -> Result<[Customer], PosFailure> {
        await Self.call { try self.pos.searchCustomers(text: text, limit: UInt32(limit)).map(Self.customer) }
    }
    public func setCustomer(customerId: String?) async -> Result<Ticket, PosFailure> {
        await Self.call {
            if let chosen = try self.pos.setCustomer(customerId: customerId) {
                self.lock.lock(); self.customers[chosen.id] = Self.customer(chosen); self.lock.unlock()
            }
            return try self.ticketView()
        }
    }
    public func cardOfflineRisk(amount: Money) async -> Result<CardOfflineRisk, PosFailure> {
        await Self.call {
            let r = try self.pos.cardOfflineRisk(amount: amount.centavos)
            return CardOfflineRisk(offline: r.offline, notice: r.notice, allowed: r.allowed, refusal: r.refusal,
                                   perPaymentLimit: Money(r.perPaymentLimit), pendingTotal: Money(r.pendingTotal),
                                   totalPendingLimit: Money(r.totalPendingLimit), pendingCount: Int(r.pendingCount))
        }
    }
    public func acceptCardOfflineRisk() async -> Result<Void, PosFailure> { await Self.call { try self.pos.acceptCardOfflineRisk() } }
    public func checkout(payments: [PaymentRequest]) async -> Result<SaleOutcome, PosFailure> {
        await Self.call {
            let o = try await self.pos.checkout(payments: payments.map(Self.payment))
            return SaleOutcome(saleId: o.saleId, localNumber: Int64(o.localNumber), total: Money(o.total), change: Money(o.change),
                               note: o.note.map { Note(number: Int($0.number), series: Int($0.series), accessKey: $0.accessKey,
                                                        status: NoteStatus($0.status), contingency: $0.contingency,
                                                        deadline: $0.deadline.map(Self.date), rejection: nil) },
                               printed: o.printed, printError: o.printError)
        }
    }
    public func receiptPreview(saleId: String) async -> Result<ReceiptPreview, PosFailure> {
        await Self.call { let png = try self.pos.receiptPng(saleId: saleId); return ReceiptPreview(png: png, widthDots: Self.pngWidth(png)) }
    }
    public func reprint(saleId: String) async -> Result<PrintOutcome, PosFailure> {
        await Self.call { let o = try await self.pos.reprint(saleId: saleId); return PrintOutcome(printed: o.printed, printError: o.printError) }
    }
    public func enterContingency(justification: String, approval: Approval?) async -> Result<Void, PosFailure> {
        await Self.call { try self.pos.enterContingency(justification: justification, approval: approval.map(Self.approval)) }
    }
    public func offlineSales() async -> Result<[OfflineSale], PosFailure> {
        await Self.call {
            try self.pos.offlineSales().map { r in
                OfflineSale(saleId: r.saleId, localNumber: Int64(r.localNumber), createdAt: Self.date(r.createdAt), total: Money(r.total),
                            synced: r.synced, voided: r.voided,
                            note: r.note.map { Note(number: Int($0.number), series: Int($0.series), accessKey: $0.accessKey,
                                                    status: NoteStatus($0.status), contingency: $0.contingency,
                                                    deadline: $0.deadline.map(Self.date), rejection: $0.rejection) })
            }
        }
    }
    public func syncNow() async -> Result<SyncNowOutcome, PosFailure> {
        await Self.call {
            let o = try await self.pos.syncOfflineSalesNow()
            return SyncNowOutcome(syncRequested: o.syncRequested, syncUnavailable: o.syncUnavailable)
        }
    }
}

// Generated types → the app's models.
extension FfiPosRepository {
    static func date(_ ms: Int64) -> Date { Date(timeIntervalSince1970: TimeInterval(ms) / 1000) }

    static func failure(_ e: TendaError) -> PosFailure {
        switch e {
        case .Offline(let what, let why): return .offline(what: what, why: why)
        case .Forbidden(let p): return .forbidden(permission: p)
        case .WrongCredentials(let left): return .wrongCredentials(remainingAttempts: Int(left))
        case .LockedOut(let until): return .lockedOut(until: date(until))
        case .InvalidInput(let field, let reason): return .invalidInput(field: field, reason: reason)
        case .Rejected(let code, let reason): return .rejected(authorityCode: code, reason: reason)
        case .LimitExceeded(let limit, _, _, _, let detail): return .limitExceeded(limit: "\(limitCode(limit)): \(detail)")
        case .ContingencyRequired: return .contingencyRequired
        case .NotFound(let what): return .notFound(what: what)
        case .InvalidState(let action, let reason): return .invalidState(action: action, reason: reason)
        case .InsufficientStock(let product, _, _): return .insufficientStock(product: product)
        case .Peripheral(let device, let reason): return .peripheral(device: device, reason: reason)
        case .Fiscal(let detail): return .fiscal(detail: detail)
        case .Keystore(let detail): return .keystore(detail: detail)
        case .Storage(let detail): return .storage(detail: detail)
        case .ShutDown: return .shutDown
        case .Internal(let detail): return .internalError(detail: detail)
        case .Host(let detail): return .host(detail: detail)
        }
    }

    static func status(_ s: Tenda.PosStatus) -> PosStatus {
        PosStatus(
            link: s.link == .online ? .online : .offline,
            sefaz: { switch s.sefaz { case .normal: return .normal; case .contingencyRequired: return .contingencyRequired
                                      case .contingency: return .contingency; case .draining: return .draining } }(),
            pendingSync: Int64(s.pendingSync), pendingNotes: Int(s.pendingNotes), nearestDeadline: s.nearestDeadline.map(date),
            deadlineAlarm: s.deadlineAlarm.map { switch $0 { case .half: return .half; case .urgent: return .urgent; case .overdue: return .overdue } },
            notesNeedingCorrection: Int(s.notesNeedingCorrection), printer: peripheral(s.printer), cardReader: peripheral(s.cardReader),
            lastSync: s.lastSync.map(date), unavailable: s.unavailable.map { OfflineLimitation(feature: $0.feature, reason: $0.reason) })
    }

    static func peripheral(_ p: Tenda.PeripheralState) -> PeripheralState {
        switch p {
        case .notConfigured: return .notConfigured
        case .ready: return .ready
        case .needsAttention(let reason): return .needsAttention(reason: reason)
        case .disconnected: return .disconnected
        }
    }

    static func product(_ p: Tenda.ProductView) -> ProductView {
        ProductView(id: p.id, sku: p.sku, gtin: p.gtin, name: p.name, unit: p.unit, weighed: p.weighed, price: Money(p.price), stockThousandths: p.stockThousandths)
    }

    /// The limit's stable code, as Kotlin writes it (the constant in snake case).
    static func limitCode(_ limit: Tenda.LimitKind) -> String {
        String(describing: limit).reduce(into: "") { out, c in
            if c.isUppercase { out += (out.isEmpty ? "" : "_") + c.lowercased() } else { out.append(c) }
        }
    }

    /// A PNG's width in pixels (IHDR, big-endian bytes 16–19), for the receipt preview's scale.
    static func pngWidth(_ png: Data) -> Int {
        guard png.count >= 24 else { return 0 }
        return png.dropFirst(16).prefix(4).reduce(0) { $0 << 8 | Int($1) }
    }

    static func customer(_ c: Tenda.CustomerView) -> Customer {
        Customer(id: c.id, name: c.name, taxId: c.taxId, balance: Money(c.balance), creditLimit: Money(c.overdraftLimit))
    }

    static func ticket(_ t: Tenda.TicketView, customer: Customer?) -> Ticket {
        Ticket(lines: t.lines.map { TicketLine(index: Int($0.index), name: $0.name, quantityThousandths: $0.quantityThousandths, unit: $0.unit,
                                               unitPrice: Money($0.unitPrice), gross: Money($0.gross), discount: Money($0.discount), total: Money($0.total)) },
               gross: Money(t.gross), discount: Money(t.discount), total: Money(t.total), discountBasisPoints: Int(t.discountBasisPoints),
               consumerTaxId: t.consumerTaxId, customer: customer)
    }

    static func approval(_ a: Approval) -> Tenda.Approval { Tenda.Approval(login: a.login, secret: .pin(a.secret)) }

    static func discount(_ d: Discount) -> Tenda.Discount {
        switch d { case .amount(let m): return .amount(m.centavos); case .percent(let bp): return .percent(UInt32(bp)) }
    }

    static func payment(_ p: PaymentRequest) -> Tenda.PaymentRequest {
        switch p {
        case .cash(let a, let t): return .cash(amount: a.centavos, tendered: t.centavos)
        case .card(let a, let k): return .card(amount: a.centavos, kind: k == .credit ? .credit : .debit)
        case .pix(let a, let txid): return .pix(amount: a.centavos, txid: txid)
        case .customerAccount(let a): return .customerAccount(amount: a.centavos)
        }
    }
}

extension Role {
    init(_ r: Tenda.Role) { switch r { case .seller: self = .seller; case .manager: self = .manager; case .owner: self = .owner } }
}

extension NoteStatus {
    init(_ s: Tenda.FiscalStatus) {
        switch s {
        case .pending: self = .pending; case .contingency: self = .contingency; case .authorized: self = .authorized
        case .rejected: self = .rejected; case .denied: self = .denied; case .cancelled: self = .cancelled
        }
    }
}
