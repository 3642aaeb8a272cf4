package app.tenda.mobile.core.presenter

import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update

/**
 * A screen's logic: it holds one immutable state in a [StateFlow] the screen renders, and takes
 * the screen's events. Presenters run in a scope the host gives them (a view model's scope on
 * Android, a task on iOS) and talk to the core only through the repository.
 */
abstract class Presenter<S, E>(initial: S) {
    private val mutableState = MutableStateFlow(initial)
    val state: StateFlow<S> = mutableState.asStateFlow()

    protected fun update(change: (S) -> S) = mutableState.update(change)

    abstract fun handle(event: E)
}

/** A PIN typed digit by digit; kept inside presenters, only its length reaches the state. */
internal class PinEntry {
    private val digits = StringBuilder()

    val length: Int get() = digits.length
    val value: String get() = digits.toString()

    fun type(digit: Char) {
        if (digit in '0'..'9' && digits.length < MAX_PIN_DIGITS) digits.append(digit)
    }

    fun erase() {
        if (digits.isNotEmpty()) digits.setLength(digits.length - 1)
    }

    fun clear() = digits.setLength(0)

    private companion object {
        // A keypad bound, not a rule: the core decides which PINs are valid.
        const val MAX_PIN_DIGITS = 12
    }
}
