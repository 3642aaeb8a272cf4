import Foundation

/// Everything a seller's or manager's screen asks of the point of sale; mirrors the Kotlin
/// core's `PosRepository`. Calls never throw: failures come back as `PosFailure`.
public protocol PosRepository: AnyObject, Sendable {
    /// The core's status, current value first.
    func statusUpdates() -> AsyncStream<PosStatus>
    var currentStatus: PosStatus { get }

    func signIn(login: String, pin: String) async -> Result<Operator, PosFailure>
    func signOut() async -> Result<Void, PosFailure>
    func registerIsOpen() async -> Result<Bool, PosFailure>
    func openRegister(float: Money, approval: Approval?) async -> Result<Void, PosFailure>
    func ticket() async -> Result<Ticket, PosFailure>
    func scan(code: String) async -> Result<Ticket, PosFailure>
    func searchProducts(text: String, limit: Int) async -> Result<[ProductView], PosFailure>
    func addProduct(product: ProductView, quantityThousandths: Int64) async -> Result<Ticket, PosFailure>
    func setQuantity(line: Int, quantityThousandths: Int64) async -> Result<Ticket, PosFailure>
    func voidLine(line: Int, approval: Approval?) async -> Result<Ticket, PosFailure>
    func setLineDiscount(line: Int, discount: Discount?, approval: Approval?) async -> Result<Ticket, PosFailure>
    func setSaleDiscount(discount: Discount?, approval: Approval?) async -> Result<Ticket, PosFailure>
    func searchCustomers(text: String, limit: Int) async -> Result<[Customer], PosFailure>
    func setCustomer(customerId: String?) async -> Result<Ticket, PosFailure>
    func cardOfflineRisk(amount: Money) async -> Result<CardOfflineRisk, PosFailure>
    func acceptCardOfflineRisk() async -> Result<Void, PosFailure>
    func checkout(payments: [PaymentRequest]) async -> Result<SaleOutcome, PosFailure>
    func receiptPreview(saleId: String) async -> Result<ReceiptPreview, PosFailure>
    func reprint(saleId: String) async -> Result<PrintOutcome, PosFailure>
    func enterContingency(justification: String, approval: Approval?) async -> Result<Void, PosFailure>
    func offlineSales() async -> Result<[OfflineSale], PosFailure>
    func syncNow() async -> Result<SyncNowOutcome, PosFailure>
}

/// Wall time for countdowns; tests pass one they move by hand.
public protocol Clock: Sendable {
    func now() -> Date
    func ticks(every seconds: TimeInterval) -> AsyncStream<Date>
}

public struct SystemClock: Clock {
    public init() {}
    public func now() -> Date { Date() }
    public func ticks(every seconds: TimeInterval) -> AsyncStream<Date> {
        AsyncStream { continuation in
            let task = Task {
                while !Task.isCancelled {
                    continuation.yield(Date())
                    try? await Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000))
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
