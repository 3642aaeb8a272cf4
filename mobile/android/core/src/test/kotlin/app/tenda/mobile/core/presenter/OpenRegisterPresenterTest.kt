package app.tenda.mobile.core.presenter

import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertTrue
import org.junit.jupiter.api.Test

class OpenRegisterPresenterTest : PresenterHarness() {
    @Test
    fun `the register opens with the typed float and stays open for the next screen`() {
        signedInAsSeller()
        val presenter = OpenRegisterPresenter(pos, scope)
        val asked = presenter.send()
        assertFalse(asked.checking)
        assertFalse(asked.open)
        assertFalse(asked.canSubmit, "no float typed")

        assertTrue(presenter.send(OpenRegisterEvent.FloatChanged("150,00"), OpenRegisterEvent.Submit).open)
        assertTrue(OpenRegisterPresenter(pos, scope).send().open, "a register already open is not opened twice")
    }

    @Test
    fun `a float that is not an amount cannot be submitted, and nobody signed in is refused`() {
        val presenter = OpenRegisterPresenter(pos, scope)
        assertFalse(presenter.send(OpenRegisterEvent.FloatChanged("cem reais")).canSubmit)
        val refused = presenter.send(OpenRegisterEvent.FloatChanged("100"), OpenRegisterEvent.Submit)
        assertEquals("invalid_state", refused.failure?.code)
        assertFalse(refused.open)
    }
}
