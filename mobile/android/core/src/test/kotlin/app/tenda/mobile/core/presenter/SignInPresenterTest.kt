package app.tenda.mobile.core.presenter

import app.tenda.mobile.core.api.Role
import java.time.Duration
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertIs
import kotlin.test.assertTrue
import org.junit.jupiter.api.Test

class SignInPresenterTest : PresenterHarness() {
    private val presenter = SignInPresenter(pos, clock, scope)

    private fun typePin(pin: String) = pin.map { SignInEvent.PinDigit(it) }.toTypedArray()

    @Test
    fun `the right PIN signs the seller in and the PIN leaves the state`() {
        val state = presenter.send(SignInEvent.LoginChanged("ana"), *typePin("1234"))
        assertEquals(4, state.pinLength)
        assertTrue(state.canSubmit)

        val signedIn = presenter.send(SignInEvent.Submit)
        val phase = assertIs<SignInPhase.SignedIn>(signedIn.phase)
        assertEquals(Role.SELLER, phase.operator.role)
        assertEquals(0, signedIn.pinLength)
    }

    @Test
    fun `a wrong PIN says how many attempts are left and clears the keypad`() {
        val state = presenter.send(SignInEvent.LoginChanged("ana"), *typePin("0000"), SignInEvent.Submit)
        assertEquals(SignInPhase.WrongPin(remainingAttempts = 2), state.phase)
        assertEquals(0, state.pinLength)
        assertFalse(state.canSubmit, "nothing typed yet")
    }

    @Test
    fun `the third wrong PIN locks the login out and the time left counts down to a new try`() {
        presenter.send(SignInEvent.LoginChanged("ana"))
        repeat(2) { presenter.send(*typePin("0000"), SignInEvent.Submit) }
        val locked = presenter.send(*typePin("0000"), SignInEvent.Submit)
        val phase = assertIs<SignInPhase.LockedOut>(locked.phase)
        assertEquals(300, phase.secondsLeft, "the fake locks out for five minutes, like the core's default policy")

        // The keypad is closed while locked out.
        assertEquals(0, presenter.send(*typePin("1234")).pinLength)
        assertFalse(presenter.state.value.canSubmit)

        clock.advanceBy(Duration.ofSeconds(61))
        assertEquals(239, assertIs<SignInPhase.LockedOut>(presenter.send().phase).secondsLeft)

        clock.advanceBy(Duration.ofSeconds(239))
        assertEquals(SignInPhase.Idle, presenter.send().phase)
        val phaseAfter = presenter.send(*typePin("1234"), SignInEvent.Submit).phase
        assertIs<SignInPhase.SignedIn>(phaseAfter)
    }

    @Test
    fun `another login is not locked out by the first one's failures`() {
        presenter.send(SignInEvent.LoginChanged("ana"))
        repeat(3) { presenter.send(*typePin("0000"), SignInEvent.Submit) }
        assertIs<SignInPhase.LockedOut>(presenter.state.value.phase)

        val other = presenter.send(SignInEvent.LoginChanged("bruno"), *typePin("9876"), SignInEvent.Submit)
        assertEquals(Role.MANAGER, assertIs<SignInPhase.SignedIn>(other.phase).operator.role)
    }

    @Test
    fun `a key vault failure is shown with its code, not swallowed`() {
        pos.failNext("signIn", app.tenda.mobile.core.api.PosFailure.Storage("the keystore refused the key"))
        val state = presenter.send(SignInEvent.LoginChanged("ana"), *typePin("1234"), SignInEvent.Submit)
        assertEquals("storage", assertIs<SignInPhase.Failed>(state.phase).failure.code)
        assertTrue(state.canSubmit.not(), "the PIN was cleared")
    }
}
