import Foundation

// The app's picture of what the core answers, mirroring the Kotlin core's `api` models field by
// field (scripts/test.d/mobile-shells checks the presenter state against the Kotlin one).

public enum Role: String, Sendable { case seller, manager, owner }
public struct Operator: Hashable, Sendable { public let userId: String; public let name: String; public let role: Role }
public enum LinkState: Sendable { case online, offline }
public enum SefazMode: Sendable { case normal, contingencyRequired, contingency, draining }
public enum DeadlineAlarm: Sendable { case half, urgent, overdue }
public enum PeripheralState: Hashable, Sendable { case notConfigured, ready, needsAttention(reason: String), disconnected }
public struct OfflineLimitation: Hashable, Sendable { public let feature: String; public let reason: String }

public struct PosStatus: Hashable, Sendable {
    public var link: LinkState
    public var sefaz: SefazMode
    public var pendingSync: Int64
    public var pendingNotes: Int
    public var nearestDeadline: Date?
    public var deadlineAlarm: DeadlineAlarm?
    public var notesNeedingCorrection: Int
    public var printer: PeripheralState
    public var cardReader: PeripheralState
    public var lastSync: Date?
    public var unavailable: [OfflineLimitation]

    public func unavailableReason(_ feature: String) -> String? { unavailable.first { $0.feature == feature }?.reason }

    public static let starting = PosStatus(
        link: .offline, sefaz: .normal, pendingSync: 0, pendingNotes: 0, nearestDeadline: nil, deadlineAlarm: nil,
        notesNeedingCorrection: 0, printer: .notConfigured, cardReader: .notConfigured, lastSync: nil, unavailable: [])
}

public enum Features { public static let pix = "pix" }

public struct ProductView: Hashable, Sendable {
    public let id: String, sku: String, gtin: String?, name: String, unit: String
    public let weighed: Bool, price: Money, stockThousandths: Int64
}

public struct TicketLine: Hashable, Sendable {
    public let index: Int, name: String, quantityThousandths: Int64, unit: String
    public let unitPrice: Money, gross: Money, discount: Money, total: Money
}

public struct Customer: Hashable, Sendable {
    public let id: String, name: String, taxId: String?, balance: Money, creditLimit: Money
}

public struct Ticket: Hashable, Sendable {
    public let lines: [TicketLine]
    public let gross: Money, discount: Money, total: Money
    public let discountBasisPoints: Int
    public let consumerTaxId: String?
    public let customer: Customer?
    public var isEmpty: Bool { lines.isEmpty }
    public static let empty = Ticket(lines: [], gross: .zero, discount: .zero, total: .zero, discountBasisPoints: 0, consumerTaxId: nil, customer: nil)
}

public enum Discount: Hashable, Sendable { case amount(Money), percent(basisPoints: Int) }

/// A manager's credentials typed on the seller's device to approve one action.
public struct Approval: Sendable { public let login: String; public let secret: String }

public enum CardKind: Sendable { case credit, debit }

public enum PaymentRequest: Hashable, Sendable {
    case cash(amount: Money, tendered: Money)
    case card(amount: Money, kind: CardKind)
    case pix(amount: Money, txid: String?)
    case customerAccount(amount: Money)

    public var amount: Money {
        switch self {
        case .cash(let a, _), .card(let a, _), .pix(let a, _), .customerAccount(let a): return a
        }
    }
}

public struct CardOfflineRisk: Hashable, Sendable {
    public let offline: Bool, notice: String, allowed: Bool, refusal: String?
    public let perPaymentLimit: Money, pendingTotal: Money, totalPendingLimit: Money, pendingCount: Int
}

public enum NoteStatus: Sendable { case pending, contingency, authorized, rejected, denied, cancelled }

public struct Note: Hashable, Sendable {
    public let number: Int, series: Int, accessKey: String, status: NoteStatus, contingency: Bool
    public let deadline: Date?, rejection: String?
}

public struct SaleOutcome: Hashable, Sendable {
    public let saleId: String, localNumber: Int64, total: Money, change: Money, note: Note?
    public let printed: Bool, printError: String?
}

public struct OfflineSale: Hashable, Sendable {
    public let saleId: String, localNumber: Int64, createdAt: Date, total: Money, synced: Bool, voided: Bool, note: Note?
}

public struct ReceiptPreview: Hashable, Sendable { public let png: Data; public let widthDots: Int }
public struct PrintOutcome: Hashable, Sendable { public let printed: Bool; public let printError: String? }
public struct SyncNowOutcome: Hashable, Sendable { public let syncRequested: Bool; public let syncUnavailable: String? }
