package tenda.test

import org.junit.jupiter.api.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNull
import tenda.domain.formatBrl
import tenda.domain.parseTypedAmount
import tenda.pos.TendaException
import tenda.pos.contingencyJustificationBounds
import tenda.pos.paymentDue
import tenda.pos.secondsLeft

/** The screen figures the core computes once for both phone shells, called from Kotlin. */
class ScreenFiguresTest {
    @Test
    fun `typed amounts become centavos, typos null, and centavos print as reais`() {
        assertEquals(123_456L, parseTypedAmount("1.234,56"))
        assertEquals(1_250L, parseTypedAmount("12.50"))
        listOf("", "12,345", "1.23.4", "-5").forEach { assertNull(parseTypedAmount(it), it) }
        assertEquals("R$ 1.234.567,89", formatBrl(123_456_789L))
    }

    @Test
    fun `remaining, change, countdown and bounds`() {
        val due = paymentDue(5_000L, listOf(3_000L), 2_500L)
        assertEquals(2_000L to 500L, due.remaining to due.change)
        assertNull(paymentDue(5_000L, listOf(3_000L), 1_000L).change, "1,00 does not cover 20,00")
        assertFailsWith<TendaException.InvalidInput> { paymentDue(1L, listOf(Long.MAX_VALUE, 1L), null) }
        assertEquals(300uL, secondsLeft(1_000L, 300_001L), "299.001 s left shows as 300")
        assertEquals(0uL, secondsLeft(2_000L, 1_000L))
        val bounds = contingencyJustificationBounds()
        assertEquals(15u to 256u, bounds.minChars to bounds.maxChars)
    }
}
