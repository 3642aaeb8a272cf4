import Foundation

/// The core's error with the same stable `code` as Kotlin's `PosFailure` and Rust's `PosError`.
public enum PosFailure: Error, Hashable, Sendable {
    case offline(what: String, why: String)
    case forbidden(permission: String)
    case wrongCredentials(remainingAttempts: Int)
    case lockedOut(until: Date)
    case invalidInput(field: String, reason: String)
    case rejected(authorityCode: String, reason: String)
    case limitExceeded(limit: String)
    case contingencyRequired
    case notFound(what: String)
    case invalidState(action: String, reason: String)
    case insufficientStock(product: String)
    case peripheral(device: String, reason: String)
    case fiscal(detail: String)
    case keystore(detail: String)
    case storage(detail: String)
    case shutDown
    case host(detail: String)
    case internalError(detail: String)

    public var code: String {
        switch self {
        case .offline: return "offline"
        case .forbidden: return "forbidden"
        case .wrongCredentials: return "wrong_credentials"
        case .lockedOut: return "locked_out"
        case .invalidInput: return "invalid_input"
        case .rejected: return "rejected"
        case .limitExceeded: return "limit_exceeded"
        case .contingencyRequired: return "contingency_required"
        case .notFound: return "not_found"
        case .invalidState: return "invalid_state"
        case .insufficientStock: return "insufficient_stock"
        case .peripheral: return "peripheral"
        case .fiscal: return "fiscal"
        case .keystore: return "keystore"
        case .storage: return "storage"
        case .shutDown: return "shut_down"
        case .host: return "host"
        case .internalError: return "internal"
        }
    }
}
