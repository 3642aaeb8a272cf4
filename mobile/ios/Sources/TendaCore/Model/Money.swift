import Foundation

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
    public static func parse(_ typed: String) -> Money? {
        var text = typed.trimmingCharacters(in: .whitespaces)
        if text.hasPrefix("R$") { text = String(text.dropFirst(2)).trimmingCharacters(in: .whitespaces) }
        let whole: Substring, fraction: Substring
        if let comma = text.lastIndex(of: ",") {
            whole = text[..<comma]; fraction = text[text.index(after: comma)...]
        } else if text.filter({ $0 == "." }).count == 1, let dot = text.firstIndex(of: "."),
                  text.distance(from: dot, to: text.endIndex) - 1 <= 2 {
            whole = text[..<dot]; fraction = text[text.index(after: dot)...]
        } else {
            whole = Substring(text); fraction = ""
        }
        let digits = Set("0123456789")
        guard fraction.count <= 2, fraction.allSatisfy(digits.contains),
              whole.allSatisfy({ digits.contains($0) || $0 == "." }) else { return nil }
        let groups = whole.split(separator: ".", omittingEmptySubsequences: false)
        guard groups.count == 1 || ((1...3).contains(groups[0].count) && groups.dropFirst().allSatisfy { $0.count == 3 }) else { return nil }
        let wholeDigits = groups.joined()
        guard !(wholeDigits.isEmpty && fraction.isEmpty), wholeDigits.count <= 15 else { return nil }
        let reais = Int64(wholeDigits) ?? 0
        let cents = Int64(fraction.padding(toLength: 2, withPad: "0", startingAt: 0)) ?? 0
        return Money(reais * 100 + cents)
    }

    /// "R$ 1.234,56".
    public var formatted: String {
        let absolute = centavos.magnitude
        var reais = String(absolute / 100)
        var grouped = ""
        while reais.count > 3 { grouped = "." + reais.suffix(3) + grouped; reais = String(reais.dropLast(3)) }
        let cents = absolute % 100
        return (centavos < 0 ? "-R$ " : "R$ ") + reais + grouped + "," + (cents < 10 ? "0" : "") + String(cents)
    }
}
