import XCTest
@testable import TendaCore

final class MoneyTests: XCTestCase {
    func testTypedAmountsBecomeExactCentavos() {
        XCTAssertEqual(Money.parse("12"), Money(1200))
        XCTAssertEqual(Money.parse("12,5"), Money(1250))
        XCTAssertEqual(Money.parse("R$ 1.234,56"), Money(123456))
        XCTAssertEqual(Money.parse("1.234"), Money(123400))
        for typo in ["", "abc", "12,345", "1.23.4", "12,3,4", "-5"] { XCTAssertNil(Money.parse(typo), typo) }
    }

    func testAmountsPrintAsReceiptsPrintThem() {
        XCTAssertEqual(Money(123456789).formatted, "R$ 1.234.567,89")
        XCTAssertEqual(Money(5).formatted, "R$ 0,05")
    }
}
