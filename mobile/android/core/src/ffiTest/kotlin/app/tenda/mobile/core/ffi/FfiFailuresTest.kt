package app.tenda.mobile.core.ffi

import app.tenda.mobile.core.api.PosFailure
import app.tenda.mobile.core.api.SystemClock
import app.tenda.mobile.core.presenter.SignInEvent
import app.tenda.mobile.core.presenter.SignInPhase
import app.tenda.mobile.core.presenter.SignInPresenter
import java.io.File
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertIs
import kotlin.test.assertTrue
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Test

/** What the seller sees when the core refuses: wrong PINs, a lockout, a key vault that fails. */
class FfiFailuresTest {
    @Test
    fun `wrong PINs count down to a lockout, shown with the time left`() {
        TestStack().use { stack ->
            ShiftHarness(stack).use { h ->
                val repository = h.enroll()
                val signIn = SignInPresenter(repository, SystemClock, h.scope)
                val who = "second_seller"
                h.send(signIn, SignInEvent.LoginChanged(h.login(who)))
                var attempts = 0
                var phase: SignInPhase
                do {
                    h.send(signIn, *"0000".map { SignInEvent.PinDigit(it) }.toTypedArray(), SignInEvent.Submit)
                    phase = h.await(signIn, "an answer to a wrong PIN") { it.phase is SignInPhase.WrongPin || it.phase is SignInPhase.LockedOut }.phase
                    attempts++
                    if (phase is SignInPhase.WrongPin) {
                        // Wait for the next answer to be distinguishable from this one.
                        h.await(signIn, "the keypad cleared") { it.pinLength == 0 }
                    }
                } while (phase is SignInPhase.WrongPin && attempts < 10)
                val locked = assertIs<SignInPhase.LockedOut>(phase, "no lockout after $attempts wrong PINs")
                assertTrue(locked.secondsLeft > 0)

                // Even the right PIN is refused while locked out, and the keypad stays closed.
                h.send(signIn, *h.pin(who).map { SignInEvent.PinDigit(it) }.toTypedArray(), SignInEvent.Submit)
                assertIs<SignInPhase.LockedOut>(signIn.state.value.phase)
                assertFalse(signIn.state.value.canSubmit)
                val direct = runBlocking { repository.signIn(h.login(who), h.pin(who)) }
                assertIs<PosFailure.LockedOut>(direct.exceptionOrNull())
                runBlocking { repository.shutdown() }
            }
        }
    }

    @Test
    fun `a key vault that refuses or crashes is a typed failure and creates nothing`() {
        val dir = TestStack.tempDir()
        val db = File(dir, "tenda.db")
        val refused = runBlocking { FfiPosRepository.open(db.path, RefusingKeyVault(), "device") }
        assertEquals("keystore", (refused.exceptionOrNull() as PosFailure).code)
        val crashed = runBlocking { FfiPosRepository.open(db.path, CrashingKeyVault(), "device") }
        assertEquals("host", (crashed.exceptionOrNull() as PosFailure).code)
        assertFalse(db.exists(), "no database was created without its key")
    }
}
