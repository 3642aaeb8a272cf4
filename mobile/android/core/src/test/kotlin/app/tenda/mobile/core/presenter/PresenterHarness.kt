package app.tenda.mobile.core.presenter

import app.tenda.mobile.core.test.FakePosRepository
import app.tenda.mobile.core.test.TestClock
import app.tenda.mobile.core.test.TestScheduler
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterEach

/** A fake point of sale, a hand-moved clock and a scheduler run step by step. */
abstract class PresenterHarness {
    protected val scheduler = TestScheduler()
    protected val clock = TestClock()
    protected val pos = FakePosRepository(clock)
    protected val scope = scheduler.scope()

    @AfterEach
    fun cancelPresenters() = scheduler.close(scope)

    protected fun <S, E> Presenter<S, E>.send(vararg events: E): S {
        events.forEach { handle(it) }
        scheduler.runCurrent()
        return state.value
    }

    protected fun signedInAsSeller() = runBlocking { pos.signIn("ana", "1234").getOrThrow() }

    /** Signed in with the register open: ready to take payments. */
    protected fun readyToSell() = runBlocking {
        pos.signIn("ana", "1234").getOrThrow()
        pos.openRegister(app.tenda.mobile.core.api.Money(10_000), app.tenda.mobile.core.api.Approval("bruno", "9876")).getOrThrow()
    }
}
