package app.tenda.mobile.core.presenter

import app.tenda.mobile.core.api.PosFailure
import app.tenda.mobile.core.api.SefazMode
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertIs
import kotlin.test.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test

class ContingencyPresenterTest : PresenterHarness() {
    private lateinit var presenter: ContingencyPresenter

    @BeforeEach
    fun linkDown() {
        signedInAsSeller()
        pos.linkDrops()
        presenter = ContingencyPresenter(pos, scope)
        scheduler.runCurrent()
    }

    private fun credentials(login: String, pin: String) =
        arrayOf<ContingencyEvent>(ContingencyEvent.LoginChanged(login)) + pin.map { ContingencyEvent.PinDigit(it) }

    @Test
    fun `the screen shows that a manager must decide, and the manager's PIN enters contingency`() {
        assertEquals(SefazMode.CONTINGENCY_REQUIRED, presenter.state.value.mode)
        val state = presenter.send(
            ContingencyEvent.JustificationChanged("Internet da loja caiu às 12h"),
            *credentials("bruno", "9876"),
            ContingencyEvent.Submit,
        )
        assertTrue(state.entered)
        assertEquals(SefazMode.CONTINGENCY, state.mode)
        assertEquals(SefazMode.CONTINGENCY, pos.status.value.sefaz)
    }

    @Test
    fun `a seller's own PIN is not enough`() {
        val state = presenter.send(
            ContingencyEvent.JustificationChanged("Internet da loja caiu às 12h"),
            *credentials("ana", "1234"),
            ContingencyEvent.Submit,
        )
        assertIs<PosFailure.Forbidden>(state.failure)
        assertFalse(state.entered)
        assertEquals(0, state.pinLength)
    }

    @Test
    fun `a wrong manager PIN and a short justification are refused with their reasons`() {
        val wrong = presenter.send(
            ContingencyEvent.JustificationChanged("Internet da loja caiu às 12h"),
            *credentials("bruno", "0000"),
            ContingencyEvent.Submit,
        )
        assertEquals(PosFailure.WrongCredentials(2), wrong.failure)

        val short = presenter.send(ContingencyEvent.JustificationChanged("caiu"), *"9876".map { ContingencyEvent.PinDigit(it) }.toTypedArray(), ContingencyEvent.Submit)
        assertEquals("justification", assertIs<PosFailure.InvalidInput>(short.failure).field)
        // The screen shows the count against the bounds the core enforces.
        assertEquals(4, short.justificationChars)
        assertEquals(15..256, short.justificationBounds)
        assertEquals(SefazMode.CONTINGENCY_REQUIRED, pos.status.value.sefaz)
    }
}
