import Foundation
import Tenda

/// An amount in integer centavos, as the Rust core keeps it. Never a Double.
public struct Money: Hashable, Comparable, Sendable {
    public let centavos: Int64
    public init(_ centavos: Int64) { self.centavos = centavos }

    public static let zero = Money(0)
    public static func + (a: Money, b: Money) -> Money {
        let (sum, overflow) = a.centavos.addingReportingOverflow(b.centavos)
        precondition(!overflow, "money overflow")
        return Money(sum)
    }
    public static func - (a: Money, b: Money) -> Money {
        let (diff, overflow) = a.centavos.subtractingReportingOverflow(b.centavos)
        precondition(!overflow, "money overflow")
        return Money(diff)
    }
    public static func < (a: Money, b: Money) -> Bool { a.centavos < b.centavos }
    public var isPositive: Bool { centavos > 0 }

    /// What a seller types on the keypad: "12", "12,5", "1.234,56" or "12.50"; nil for a typo.
    /// The rule is the Rust core's (`parse_typed_amount`), shared with the Android app.
    public static func parse(_ typed: String) -> Money? { Tenda.parseTypedAmount(typed: typed).map(Money.init) }

    /// "R$ 1.234,56" (the core's `format_brl`).
    public var formatted: String { Tenda.formatBrl(amount: centavos) }
}
