package app.tenda.mobile.core.presenter

import app.tenda.mobile.core.api.CardKind
import app.tenda.mobile.core.api.LinkState
import app.tenda.mobile.core.api.NoteStatus
import app.tenda.mobile.core.api.SefazMode
import app.tenda.mobile.core.api.SaleOutcome
import java.time.Duration
import kotlin.test.assertEquals
import kotlin.test.assertIs
import kotlin.test.assertNotNull
import kotlin.test.assertTrue
import org.junit.jupiter.api.Test

/**
 * A seller's whole shift through the presenters together, as the app navigates them, on the fake:
 * the same path the FFI shift test walks on the real core.
 */
class SellerShiftTest : PresenterHarness() {
    private val bar = StatusBarPresenter(pos.status, clock, scope)

    private fun pin(digits: String) = digits.map { SignInEvent.PinDigit(it) }.toTypedArray()

    private fun sell(code: String, pay: PaymentPresenter.() -> Unit): SaleOutcome {
        val counter = CounterPresenter(pos, scope)
        val rung = counter.send(CounterEvent.Scanned(code, ScanSource.SCANNER))
        assertTrue(rung.canPay)
        val payment = PaymentPresenter(pos, scope).also { scheduler.runCurrent() }
        payment.pay()
        scheduler.runCurrent()
        val paid = assertIs<PaymentPhase.Paid>(payment.state.value.phase, "payment failed: ${payment.state.value.failure}")
        val receipt = ReceiptPresenter(pos, paid.outcome, scope).send()
        assertNotNull(receipt.preview)
        return paid.outcome
    }

    @Test
    fun `sign in, sell online, lose the link, enter contingency, sell offline, get the link back, nothing waits`() {
        val signIn = SignInPresenter(pos, clock, scope)
        assertIs<SignInPhase.SignedIn>(signIn.send(SignInEvent.LoginChanged("ana"), *pin("1234"), SignInEvent.Submit).phase)
        val register = OpenRegisterPresenter(pos, scope).also { scheduler.runCurrent() }
        register.send(OpenRegisterEvent.FloatChanged("100"), OpenRegisterEvent.Submit)
        register.send(OpenRegisterEvent.ApprovalLoginChanged("bruno"))
        assertTrue(register.send(*"9876".map { OpenRegisterEvent.ApprovalPinDigit(it) }.toTypedArray(), OpenRegisterEvent.ApprovalConfirm).open)

        val online = sell("CAFE500") { handle(PaymentEvent.TenderedChanged("20")); handle(PaymentEvent.PayCash) }
        assertEquals(NoteStatus.AUTHORIZED, online.note?.status)
        assertEquals(0, bar.send().badge)

        pos.linkDrops()
        val dropped = bar.send()
        assertEquals(LinkState.OFFLINE, dropped.link)
        assertTrue(dropped.offersContingency)

        val contingency = ContingencyPresenter(pos, scope)
        val entered = contingency.send(
            ContingencyEvent.JustificationChanged("Sem internet na loja desde 12h"),
            ContingencyEvent.LoginChanged("bruno"),
            *"9876".map { ContingencyEvent.PinDigit(it) }.toTypedArray(),
            ContingencyEvent.Submit,
        )
        assertTrue(entered.entered)
        assertEquals(SefazMode.CONTINGENCY, bar.send().mode)

        val cash = sell("PAO") { handle(PaymentEvent.TenderedChanged("10")); handle(PaymentEvent.PayCash) }
        val card = sell("LEITE1L") {
            handle(PaymentEvent.PayCard(CardKind.DEBIT))
            scheduler.runCurrent()
            assertNotNull(state.value.riskPrompt)
            handle(PaymentEvent.AcceptCardRisk)
        }
        val waiting = bar.send()
        assertEquals(2, waiting.pendingSales)
        assertEquals(2, waiting.pendingNotes)

        val list = OfflineSalesPresenter(pos, clock, scope)
        clock.advanceBy(Duration.ofMinutes(30))
        val rows = list.send().rows
        assertEquals(listOf(cash.saleId, card.saleId), rows.map { it.sale.saleId })
        assertTrue(rows.all { it.deadlineLeft == Duration.ofHours(24).minusMinutes(30) })

        pos.linkReturns()
        assertEquals(0, bar.send().badge)
        assertEquals(SefazMode.NORMAL, bar.state.value.mode)
        assertTrue(list.send().rows.isEmpty())
        assertEquals(listOf(online.saleId, cash.saleId, card.saleId), pos.recordedSales().map { it.saleId }, "each sale once")
    }
}
