package app.tenda.mobile.core.presenter

import app.tenda.mobile.core.api.Money
import app.tenda.mobile.core.api.PosFailure
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertIs
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import org.junit.jupiter.api.Test

class OpenRegisterPresenterTest : PresenterHarness() {
    private fun open() = OpenRegisterPresenter(pos, scope).also { scheduler.runCurrent() }

    @Test
    fun `a seller's float waits for the manager's approval, then the register stays open`() {
        signedInAsSeller()
        val presenter = open()
        assertFalse(presenter.state.value.checking)
        assertFalse(presenter.state.value.open)
        assertFalse(presenter.state.value.canSubmit, "no float typed")

        val asked = presenter.send(OpenRegisterEvent.FloatChanged("150,00"), OpenRegisterEvent.Submit)
        val dialog = assertNotNull(asked.approval)
        assertEquals(GuardedAction.OpenRegister(Money(15_000)), dialog.action)
        assertEquals("open_register", dialog.permission)
        assertFalse(asked.open)

        val wrong = presenter.send(OpenRegisterEvent.ApprovalLoginChanged("bruno"), OpenRegisterEvent.ApprovalPinDigit('0'), OpenRegisterEvent.ApprovalConfirm)
        assertIs<PosFailure.WrongCredentials>(wrong.approval?.failure)

        val approved = presenter.send(*"9876".map { OpenRegisterEvent.ApprovalPinDigit(it) }.toTypedArray(), OpenRegisterEvent.ApprovalConfirm)
        assertTrue(approved.open)
        assertNull(approved.approval)
        assertTrue(open().state.value.open, "a register already open is not opened twice")
    }

    @Test
    fun `a manager opens it without a dialog`() {
        kotlinx.coroutines.runBlocking { pos.signIn("bruno", "9876").getOrThrow() }
        val state = open().send(OpenRegisterEvent.FloatChanged("80"), OpenRegisterEvent.Submit)
        assertTrue(state.open)
        assertNull(state.approval)
    }

    @Test
    fun `a float that is not an amount cannot be submitted, and nobody signed in is refused`() {
        val presenter = open()
        assertFalse(presenter.send(OpenRegisterEvent.FloatChanged("cem reais")).canSubmit)
        val refused = presenter.send(OpenRegisterEvent.FloatChanged("100"), OpenRegisterEvent.Submit)
        assertEquals("invalid_state", refused.failure?.code)
        assertFalse(refused.open)
    }
}
