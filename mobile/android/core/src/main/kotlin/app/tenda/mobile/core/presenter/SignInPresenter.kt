package app.tenda.mobile.core.presenter

import app.tenda.mobile.core.api.Clock
import app.tenda.mobile.core.api.Operator
import app.tenda.mobile.core.api.PosFailure
import app.tenda.mobile.core.api.PosRepository
import app.tenda.mobile.core.api.asPosFailure
import java.time.Duration
import java.time.Instant
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.flow.takeWhile
import kotlinx.coroutines.launch

data class SignInState(
    val login: String = "",
    val pinLength: Int = 0,
    val phase: SignInPhase = SignInPhase.Idle,
) {
    val canSubmit: Boolean
        get() = login.isNotBlank() && pinLength > 0 &&
            (phase is SignInPhase.Idle || phase is SignInPhase.WrongPin || phase is SignInPhase.Failed)
}

sealed interface SignInPhase {
    data object Idle : SignInPhase
    data object Checking : SignInPhase
    data class WrongPin(val remainingAttempts: Int) : SignInPhase
    /** Too many wrong PINs: the keypad is closed until [until]; [secondsLeft] counts down. */
    data class LockedOut(val until: Instant, val secondsLeft: Long) : SignInPhase
    data class Failed(val failure: PosFailure) : SignInPhase
    data class SignedIn(val operator: Operator) : SignInPhase
}

sealed interface SignInEvent {
    data class LoginChanged(val login: String) : SignInEvent
    data class PinDigit(val digit: Char) : SignInEvent
    data object PinBackspace : SignInEvent
    data object Submit : SignInEvent
}

/** Signing in with a login and a PIN, offline; the core counts failures and locks out. */
class SignInPresenter(
    private val repository: PosRepository,
    private val clock: Clock,
    private val scope: CoroutineScope,
) : Presenter<SignInState, SignInEvent>(SignInState()) {
    private val pin = PinEntry()
    private var countdown: Job? = null

    override fun handle(event: SignInEvent) {
        when (event) {
            is SignInEvent.LoginChanged -> {
                // The lockout belongs to a login; another login may try at once.
                countdown?.cancel()
                pin.clear()
                update { SignInState(login = event.login) }
            }
            is SignInEvent.PinDigit -> typed { pin.type(event.digit) }
            SignInEvent.PinBackspace -> typed { pin.erase() }
            SignInEvent.Submit -> submit()
        }
    }

    private fun typed(edit: () -> Unit) {
        if (state.value.phase is SignInPhase.LockedOut || state.value.phase == SignInPhase.Checking) return
        edit()
        update { it.copy(pinLength = pin.length) }
    }

    private fun submit() {
        if (!state.value.canSubmit) return
        val login = state.value.login.trim()
        val secret = pin.value
        update { it.copy(phase = SignInPhase.Checking) }
        scope.launch {
            val result = repository.signIn(login, secret)
            pin.clear()
            result.fold(
                onSuccess = { operator -> update { it.copy(pinLength = 0, phase = SignInPhase.SignedIn(operator)) } },
                onFailure = { error -> failed(error.asPosFailure()) },
            )
        }
    }

    private fun failed(failure: PosFailure) {
        when (failure) {
            is PosFailure.WrongCredentials ->
                update { it.copy(pinLength = 0, phase = SignInPhase.WrongPin(failure.remainingAttempts)) }
            is PosFailure.LockedOut -> lockedOut(failure.until)
            else -> update { it.copy(pinLength = 0, phase = SignInPhase.Failed(failure)) }
        }
    }

    private fun lockedOut(until: Instant) {
        countdown?.cancel()
        update { it.copy(pinLength = 0, phase = SignInPhase.LockedOut(until, secondsLeft(clock.now(), until))) }
        countdown = scope.launch {
            clock.ticks(Duration.ofSeconds(1))
                .takeWhile { now -> now < until }
                .collect { now -> update { it.copy(pinLength = 0, phase = SignInPhase.LockedOut(until, secondsLeft(now, until))) } }
            // The lockout is over: the seller may type again (the core decides whether it holds).
            update { it.copy(phase = SignInPhase.Idle) }
        }
    }

    /** Whole seconds left, rounded up (the core's `seconds_left`, shared with the iOS app). */
    private fun secondsLeft(now: Instant, until: Instant): Long =
        tenda.pos.secondsLeft(now.toEpochMilli(), until.toEpochMilli()).toLong()
}
