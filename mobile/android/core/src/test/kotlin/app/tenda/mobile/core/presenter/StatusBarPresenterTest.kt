package app.tenda.mobile.core.presenter

import app.tenda.mobile.core.api.Approval
import app.tenda.mobile.core.api.LinkState
import app.tenda.mobile.core.api.Money
import app.tenda.mobile.core.api.PaymentRequest
import app.tenda.mobile.core.api.SefazMode
import java.time.Duration
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Test

class StatusBarPresenterTest : PresenterHarness() {
    @Test
    fun `the bar follows the link, offers contingency, counts what waits and the deadline, and empties when the link returns`() {
        val bar = StatusBarPresenter(pos.status, clock, scope)
        val online = bar.send()
        assertEquals(LinkState.ONLINE, online.link)
        assertEquals(0, online.badge)

        pos.linkDrops()
        val dropped = bar.send()
        assertEquals(LinkState.OFFLINE, dropped.link)
        assertTrue(dropped.offersContingency)

        readyToSell()
        runBlocking {
            pos.enterContingency("Internet da loja caiu às 12h", Approval("bruno", "9876")).getOrThrow()
            repeat(2) {
                pos.scan("PAO").getOrThrow()
                pos.checkout(listOf(PaymentRequest.Cash(Money(799), Money(799)))).getOrThrow()
            }
        }
        val selling = bar.send()
        assertEquals(SefazMode.CONTINGENCY, selling.mode)
        assertFalse(selling.offersContingency)
        assertEquals(2, selling.pendingSales)
        assertEquals(2, selling.pendingNotes)
        assertEquals(4, selling.badge)
        assertEquals(Duration.ofHours(24), assertNotNull(selling.deadline).left)

        clock.advanceBy(Duration.ofHours(3).plusSeconds(30))
        assertEquals(Duration.ofHours(21).minusSeconds(30), bar.send().deadline?.left, "counts down with the clock")

        pos.linkReturns()
        val back = bar.send()
        assertEquals(LinkState.ONLINE, back.link)
        assertEquals(SefazMode.NORMAL, back.mode)
        assertEquals(0, back.badge)
        assertNull(back.deadline)
    }

    @Test
    fun `a deadline that passed shows as overdue`() {
        readyToSell()
        runBlocking {
            pos.linkDrops()
            pos.enterContingency("Internet da loja caiu às 12h", Approval("bruno", "9876")).getOrThrow()
            pos.scan("PAO").getOrThrow()
            pos.checkout(listOf(PaymentRequest.Cash(Money(799), Money(799)))).getOrThrow()
        }
        val bar = StatusBarPresenter(pos.status, clock, scope)
        clock.advanceBy(Duration.ofHours(25))
        assertTrue(assertNotNull(bar.send().deadline).overdue)
    }
}
