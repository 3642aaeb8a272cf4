import Foundation

/// A PIN typed digit by digit; only its length reaches the state.
struct PinEntry {
    private(set) var value = ""
    var length: Int { value.count }
    mutating func type(_ digit: Character) { if digit.isASCII, digit.isNumber, value.count < 12 { value.append(digit) } }
    mutating func erase() { if !value.isEmpty { value.removeLast() } }
    mutating func clear() { value = "" }
}

extension Result {
    var failure: Failure? { if case .failure(let f) = self { return f }; return nil }
}
