package app.tenda.mobile.core.presenter

import app.tenda.mobile.core.api.Approval
import app.tenda.mobile.core.api.CardKind
import app.tenda.mobile.core.api.Money
import app.tenda.mobile.core.api.NoteStatus
import app.tenda.mobile.core.api.PosFailure
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertIs
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test

class PaymentPresenterTest : PresenterHarness() {
    @BeforeEach
    fun ringUp() = runBlocking {
        readyToSell()
        pos.scan("CAFE500").getOrThrow() // R$ 18,90
        pos.scan("PAO").getOrThrow() // R$ 7,99
        Unit
    }

    private fun open(): PaymentPresenter = PaymentPresenter(pos, scope).also { scheduler.runCurrent() }

    private fun goOfflineInContingency() = runBlocking {
        pos.linkDrops()
        pos.enterContingency("Internet da loja caiu às 12h", Approval("bruno", "9876")).getOrThrow()
    }

    @Test
    fun `cash shows the change as it is typed and the sale is paid with it`() {
        val presenter = open()
        assertEquals(Money(2689), presenter.state.value.total)
        val typed = presenter.send(PaymentEvent.TenderedChanged("50,00"))
        assertEquals(Money(2311), typed.changePreview)

        val paid = assertIs<PaymentPhase.Paid>(presenter.send(PaymentEvent.PayCash).phase)
        assertEquals(Money(2311), paid.outcome.change)
        assertEquals(NoteStatus.AUTHORIZED, paid.outcome.note?.status)
    }

    @Test
    fun `cash that is not an amount is refused before anything is charged`() {
        val state = open().send(PaymentEvent.TenderedChanged("12,3,4"), PaymentEvent.PayCash)
        assertEquals(PaymentPhase.Entering, state.phase)
        assertEquals("invalid_input", state.failure?.code)
        assertTrue(pos.recordedSales().isEmpty())
    }

    @Test
    fun `part cash then a card online settles the rest`() {
        val presenter = open()
        val part = presenter.send(PaymentEvent.TenderedChanged("10"), PaymentEvent.PayCash)
        assertEquals(Money(1689), part.remaining)
        assertEquals(PaymentPhase.Entering, part.phase)

        val paid = assertIs<PaymentPhase.Paid>(presenter.send(PaymentEvent.PayCard(CardKind.DEBIT)).phase)
        assertEquals(Money(2689), paid.outcome.total)
        assertNull(presenter.state.value.riskPrompt, "online cards need no risk prompt")
    }

    @Test
    fun `a card offline shows the core's risk notice and limits, and is stored once accepted`() {
        goOfflineInContingency()
        val presenter = open()
        val prompt = assertNotNull(presenter.send(PaymentEvent.PayCard(CardKind.CREDIT)).riskPrompt)
        assertTrue(prompt.risk.offline)
        assertTrue(prompt.risk.allowed)
        assertEquals(Money(20_000), prompt.risk.perPaymentLimit)
        assertTrue(pos.recordedSales().isEmpty(), "nothing charged before the seller accepts")

        val paid = assertIs<PaymentPhase.Paid>(presenter.send(PaymentEvent.AcceptCardRisk).phase)
        assertEquals(NoteStatus.CONTINGENCY, paid.outcome.note?.status)
        assertNotNull(paid.outcome.note?.deadline)
    }

    @Test
    fun `a card offline above the owner's limit is refused with the limit, and accepting does nothing`() {
        goOfflineInContingency()
        runBlocking { repeat(12) { pos.scan("CAFE500").getOrThrow() } } // well above R$ 200,00
        val presenter = open()
        val prompt = assertNotNull(presenter.send(PaymentEvent.PayCard(CardKind.CREDIT)).riskPrompt)
        assertFalse(prompt.risk.allowed)
        assertTrue(prompt.risk.refusal!!.startsWith("offline_card_per_payment"))

        val after = presenter.send(PaymentEvent.AcceptCardRisk)
        assertEquals(PaymentPhase.Entering, after.phase)
        assertNull(presenter.send(PaymentEvent.DeclineCardRisk).riskPrompt)
        assertTrue(pos.recordedSales().isEmpty())
    }

    @Test
    fun `PIX offline shows the core's reason on the button and is refused with it`() {
        goOfflineInContingency()
        val presenter = open()
        val reason = assertNotNull(presenter.state.value.pixUnavailable)

        val refused = presenter.send(PaymentEvent.PayPix)
        assertEquals(PosFailure.Offline("pix", reason), refused.failure)
        assertEquals(PaymentPhase.Entering, refused.phase)
        assertTrue(pos.recordedSales().isEmpty())

        val cash = presenter.send(PaymentEvent.DismissFailure, PaymentEvent.TenderedChanged("26,89"), PaymentEvent.PayCash)
        assertIs<PaymentPhase.Paid>(cash.phase)
    }

    @Test
    fun `the customer's account pays within the limit and is refused beyond it`() {
        runBlocking { pos.setCustomer("c-dona-maria").getOrThrow() }
        val presenter = open()
        assertTrue(presenter.state.value.canPayOnAccount)
        assertIs<PaymentPhase.Paid>(presenter.send(PaymentEvent.PayOnAccount).phase)

        // Dona Maria owes R$ 50,00 + 26,89 of a R$ 200,00 limit; R$ 151,20 more crosses it.
        runBlocking {
            pos.setCustomer("c-dona-maria").getOrThrow()
            repeat(8) { pos.scan("CAFE500").getOrThrow() }
        }
        val refused = open().send(PaymentEvent.PayOnAccount)
        assertEquals("limit_exceeded", refused.failure?.code)
    }

    @Test
    fun `while SEFAZ is unreachable and nobody authorized contingency, checkout says so`() {
        pos.linkDrops()
        val state = open().send(PaymentEvent.TenderedChanged("30"), PaymentEvent.PayCash)
        assertEquals(PosFailure.ContingencyRequired, state.failure)
        assertEquals(PaymentPhase.Entering, state.phase)
    }
}
