package app.tenda.mobile.core.presenter

import app.tenda.mobile.core.api.Discount
import app.tenda.mobile.core.api.Money
import app.tenda.mobile.core.api.PosFailure
import kotlin.test.assertEquals
import kotlin.test.assertIs
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test

class CounterPresenterTest : PresenterHarness() {
    private lateinit var presenter: CounterPresenter

    @BeforeEach
    fun openCounter() {
        signedInAsSeller()
        presenter = CounterPresenter(pos, scope)
        scheduler.runCurrent()
    }

    private fun scannerTypes(text: String) = text.map { CounterEvent.ScannerKey(it) }.toTypedArray()

    @Test
    fun `a camera scan rings the product up with totals in centavos`() {
        val state = presenter.send(CounterEvent.Scanned("7891000100103", ScanSource.CAMERA))
        assertEquals(listOf("Café 500 g"), state.ticket.lines.map { it.name })
        assertEquals(Money(1890), state.ticket.total)
        assertEquals("7891000100103" to ScanSource.CAMERA, state.lastScan)
    }

    @Test
    fun `a Bluetooth scanner typing the code and Enter rings it up once`() {
        presenter.send(*scannerTypes("7891000200200"))
        assertTrue(presenter.state.value.ticket.isEmpty, "nothing happens before Enter")

        val state = presenter.send(CounterEvent.ScannerKey('\n'), *scannerTypes("LEITE1L\r"))
        assertEquals(listOf("Pão de forma", "Leite integral 1 L"), state.ticket.lines.map { it.name })
        assertEquals(Money(799 + 549), state.ticket.total)
        assertEquals("LEITE1L" to ScanSource.SCANNER, state.lastScan)
    }

    @Test
    fun `an unknown code is refused with its code and the ticket stays as it was`() {
        presenter.send(CounterEvent.Scanned("PAO", ScanSource.CAMERA))
        val state = presenter.send(CounterEvent.Scanned("0000", ScanSource.CAMERA))
        assertEquals("not_found", state.failure?.code)
        assertEquals(1, state.ticket.lines.size)
        assertNull(presenter.send(CounterEvent.DismissFailure).failure)
    }

    @Test
    fun `search lists matches and choosing one adds it at the typed weight`() {
        assertTrue(presenter.send(CounterEvent.QueryChanged("q")).results.isEmpty(), "one letter does not search")
        val found = presenter.send(CounterEvent.QueryChanged("queijo")).results
        assertEquals(listOf("Queijo minas"), found.map { it.name })

        val state = presenter.send(CounterEvent.AddProduct(found.single(), quantityThousandths = 1_250))
        // 1.25 kg at R$ 45,90/kg = R$ 57,375 → 5737 centavos (the fake truncates; the core rounds).
        assertEquals(Money(5737), state.ticket.total)
        assertEquals(1_250, state.ticket.lines.single().quantityThousandths)
    }

    @Test
    fun `a seller's void opens the manager's approval dialog and the manager's PIN voids the line`() {
        presenter.send(CounterEvent.Scanned("PAO", ScanSource.CAMERA), CounterEvent.Scanned("LEITE1L", ScanSource.CAMERA))

        val asked = presenter.send(CounterEvent.VoidLine(0))
        val dialog = assertNotNull(asked.approval)
        assertEquals(GuardedAction.VoidLine(0), dialog.action)
        assertEquals("void_line", dialog.permission)
        assertEquals(2, asked.ticket.lines.size, "nothing voided without approval")

        val wrong = presenter.send(
            CounterEvent.ApprovalLoginChanged("bruno"),
            CounterEvent.ApprovalPinDigit('1'), CounterEvent.ApprovalPinDigit('1'),
            CounterEvent.ApprovalConfirm,
        )
        assertEquals(PosFailure.WrongCredentials(2), wrong.approval?.failure)
        assertEquals(0, wrong.approval?.pinLength)

        val approved = presenter.send(*"9876".map { CounterEvent.ApprovalPinDigit(it) }.toTypedArray(), CounterEvent.ApprovalConfirm)
        assertNull(approved.approval)
        assertEquals(listOf("Leite integral 1 L"), approved.ticket.lines.map { it.name })
    }

    @Test
    fun `another seller cannot approve`() {
        presenter.send(CounterEvent.Scanned("PAO", ScanSource.CAMERA), CounterEvent.VoidLine(0))
        val state = presenter.send(
            CounterEvent.ApprovalLoginChanged("ana"),
            *"1234".map { CounterEvent.ApprovalPinDigit(it) }.toTypedArray(),
            CounterEvent.ApprovalConfirm,
        )
        assertIs<PosFailure.Forbidden>(state.approval?.failure)
        assertEquals(1, state.ticket.lines.size)
    }

    @Test
    fun `a discount within the seller's limit applies at once and a larger one waits for a manager`() {
        presenter.send(CounterEvent.Scanned("CAFE500", ScanSource.CAMERA))
        val small = presenter.send(CounterEvent.SetLineDiscount(0, Discount.Percent(500)))
        assertNull(small.approval)
        assertEquals(Money(1890 - 94), small.ticket.total)

        val large = presenter.send(CounterEvent.SetSaleDiscount(Discount.Amount(Money(500))))
        assertEquals(GuardedAction.SaleDiscount(Discount.Amount(Money(500))), large.approval?.action)
        assertEquals(Money(1890 - 94), large.ticket.total)

        val dismissed = presenter.send(CounterEvent.ApprovalDismiss)
        assertNull(dismissed.approval)
        assertEquals(Money(1796), dismissed.ticket.total, "dismissing applies nothing")

        presenter.send(CounterEvent.SetSaleDiscount(Discount.Amount(Money(500))))
        presenter.send(CounterEvent.ApprovalLoginChanged("bruno"))
        val approved = presenter.send(*"9876".map { CounterEvent.ApprovalPinDigit(it) }.toTypedArray(), CounterEvent.ApprovalConfirm)
        assertNull(approved.approval)
        assertEquals(Money(1796 - 500), approved.ticket.total)
    }

    @Test
    fun `quantity changes keep the order the seller made them in`() {
        presenter.send(CounterEvent.Scanned("LEITE1L", ScanSource.CAMERA))
        val state = presenter.send(CounterEvent.SetQuantity(0, 3_000), CounterEvent.SetQuantity(0, 2_000))
        assertEquals(Money(2 * 549), state.ticket.total)
        assertEquals("invalid_input", presenter.send(CounterEvent.SetQuantity(0, 0)).failure?.code)
    }
}
