package app.tenda.mobile.core.presenter

import app.tenda.mobile.core.api.Approval
import app.tenda.mobile.core.api.Money
import app.tenda.mobile.core.api.NoteStatus
import app.tenda.mobile.core.api.PaymentRequest
import app.tenda.mobile.core.api.SyncNowOutcome
import java.time.Duration
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertTrue
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Test

class OfflineSalesPresenterTest : PresenterHarness() {
    private fun sellOffline(code: String, price: Long) = runBlocking {
        pos.scan(code).getOrThrow()
        pos.checkout(listOf(PaymentRequest.Cash(Money(price), Money(price)))).getOrThrow()
    }

    @Test
    fun `offline sales appear with their deadlines, count down, and leave when the link returns`() {
        readyToSell()
        val list = OfflineSalesPresenter(pos, clock, scope)
        assertTrue(list.send().rows.isEmpty())
        assertFalse(list.state.value.loading)

        pos.linkDrops()
        runBlocking { pos.enterContingency("Internet da loja caiu às 12h", Approval("bruno", "9876")).getOrThrow() }
        sellOffline("PAO", 799)
        clock.advanceBy(Duration.ofMinutes(10))
        sellOffline("LEITE1L", 549)

        val rows = list.send().rows
        assertEquals(listOf(1L, 2L), rows.map { it.sale.localNumber }, "nearest deadline first")
        assertTrue(rows.all { it.sale.note?.status == NoteStatus.CONTINGENCY && !it.sale.synced })
        assertEquals(Duration.ofHours(24).minusMinutes(10), rows[0].deadlineLeft)
        assertEquals(Duration.ofHours(24), rows[1].deadlineLeft)

        clock.advanceBy(Duration.ofHours(1))
        assertEquals(Duration.ofHours(23).minusMinutes(10), list.send().rows[0].deadlineLeft)

        assertEquals(SyncNowOutcome(false, "offline"), list.send(OfflineSalesEvent.SyncNow).lastSync)

        pos.linkReturns()
        assertTrue(list.send().rows.isEmpty(), "synced and authorized sales leave the list")
    }

    @Test
    fun `reprinting from the list reports a printer problem`() {
        readyToSell()
        pos.linkDrops()
        runBlocking { pos.enterContingency("Internet da loja caiu às 12h", Approval("bruno", "9876")).getOrThrow() }
        val sale = sellOffline("PAO", 799)
        val list = OfflineSalesPresenter(pos, clock, scope)
        scheduler.runCurrent()
        pos.failNext("reprint", app.tenda.mobile.core.api.PosFailure.Peripheral("printer", "cover open"))
        assertEquals("peripheral", list.send(OfflineSalesEvent.Reprint(sale.saleId)).failure?.code)
    }
}
