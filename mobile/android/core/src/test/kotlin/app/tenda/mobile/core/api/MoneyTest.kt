package app.tenda.mobile.core.api

import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNull
import org.junit.jupiter.api.Test

class MoneyTest {
    @Test
    fun `typed amounts become exact centavos in the Brazilian and the dotted habit`() {
        assertEquals(Money(1200), Money.parse("12"))
        assertEquals(Money(1250), Money.parse("12,5"))
        assertEquals(Money(1250), Money.parse("12.50"))
        assertEquals(Money(123456), Money.parse("R$ 1.234,56"))
        assertEquals(Money(123400), Money.parse("1.234"), "a dot before three digits groups thousands")
        assertEquals(Money(50), Money.parse(",50"))
        // 0.1 + 0.2 in floating point is not 0.3; in centavos it is.
        assertEquals(Money(30), Money.parse("0,10")!! + Money.parse("0,20")!!)
    }

    @Test
    fun `typos are refused, never guessed`() {
        listOf("", "abc", "12,345", "1.23.4", "12,3,4", "-5", "1 2").forEach { assertNull(Money.parse(it), it) }
    }

    @Test
    fun `amounts print as receipts print them and overflow is loud`() {
        assertEquals("R$ 1.234.567,89", Money(123456789).format())
        assertEquals("R$ 0,05", Money(5).format())
        assertEquals("-R$ 12,00", Money(-1200).format())
        assertFailsWith<ArithmeticException> { Money(Long.MAX_VALUE) + Money(1) }
    }
}
