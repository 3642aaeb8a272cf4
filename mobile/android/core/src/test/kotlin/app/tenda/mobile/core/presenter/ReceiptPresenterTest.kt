package app.tenda.mobile.core.presenter

import app.tenda.mobile.core.api.Money
import app.tenda.mobile.core.api.PaymentRequest
import app.tenda.mobile.core.api.SaleOutcome
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Test

class ReceiptPresenterTest : PresenterHarness() {
    private fun sell(): SaleOutcome = runBlocking {
        readyToSell()
        pos.scan("LEITE1L").getOrThrow()
        pos.checkout(listOf(PaymentRequest.Cash(Money(549), Money(1000)))).getOrThrow()
    }

    @Test
    fun `the receipt preview of the sale is shown with its change`() {
        val sale = sell()
        val state = ReceiptPresenter(pos, sale, scope).send()
        val preview = assertNotNull(state.preview)
        assertEquals(384, preview.widthDots)
        assertEquals(Money(451), state.sale.change)
        assertTrue(state.printed)
    }

    @Test
    fun `a receipt that did not print says why and prints again once the printer is fixed`() {
        pos.printerProblem = "paper out"
        val sale = sell()
        val presenter = ReceiptPresenter(pos, sale, scope)
        val first = presenter.send()
        assertFalse(first.printed)
        assertEquals("paper out", first.printError)

        assertEquals("paper out", presenter.send(ReceiptEvent.Print).printError, "still out of paper")
        pos.printerProblem = null
        val fixed = presenter.send(ReceiptEvent.Print)
        assertTrue(fixed.printed)
        assertNull(fixed.printError)
        assertFalse(fixed.printing)
    }
}
