package app.tenda.mobile.core.presenter

import app.tenda.mobile.core.api.Approval
import app.tenda.mobile.core.api.PosFailure
import app.tenda.mobile.core.api.PosRepository
import app.tenda.mobile.core.api.SefazMode
import app.tenda.mobile.core.api.asPosFailure
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.launch
import tenda.pos.contingencyJustificationBounds

data class ContingencyState(
    val mode: SefazMode = SefazMode.NORMAL,
    /** Printed on every contingency note; the core checks its length ([justificationBounds]). */
    val justification: String = "",
    val login: String = "",
    val pinLength: Int = 0,
    val submitting: Boolean = false,
    val entered: Boolean = false,
    val failure: PosFailure? = null,
) {
    val canSubmit: Boolean
        get() = justification.isNotBlank() && login.isNotBlank() && pinLength > 0 && !submitting && !entered

    /** Characters the core counts: after trimming, each code point once. */
    val justificationChars: Int get() = justification.trim().let { it.codePointCount(0, it.length) }

    /** The lengths the core accepts (SEFAZ's `xJust`), shown beside the field. */
    val justificationBounds: IntRange
        get() = contingencyJustificationBounds().let { it.minChars.toInt()..it.maxChars.toInt() }
}

sealed interface ContingencyEvent {
    data class JustificationChanged(val text: String) : ContingencyEvent
    data class LoginChanged(val login: String) : ContingencyEvent
    data class PinDigit(val digit: Char) : ContingencyEvent
    data object PinBackspace : ContingencyEvent
    data object Submit : ContingencyEvent
}

/**
 * A manager enters NFC-e contingency on the seller's device with their own login, PIN and a
 * justification. The core checks the permission and the text, and audits both people.
 */
class ContingencyPresenter(
    private val repository: PosRepository,
    private val scope: CoroutineScope,
) : Presenter<ContingencyState, ContingencyEvent>(ContingencyState()) {
    private val pin = PinEntry()

    init {
        scope.launch {
            repository.status.collect { status ->
                update { it.copy(mode = status.sefaz, entered = it.entered || status.sefaz == SefazMode.CONTINGENCY) }
            }
        }
    }

    override fun handle(event: ContingencyEvent) {
        if (state.value.submitting) return
        when (event) {
            is ContingencyEvent.JustificationChanged -> update { it.copy(justification = event.text) }
            is ContingencyEvent.LoginChanged -> update { it.copy(login = event.login) }
            is ContingencyEvent.PinDigit -> pinEdit { pin.type(event.digit) }
            ContingencyEvent.PinBackspace -> pinEdit { pin.erase() }
            ContingencyEvent.Submit -> submit()
        }
    }

    private fun pinEdit(edit: () -> Unit) {
        edit()
        update { it.copy(pinLength = pin.length) }
    }

    private fun submit() {
        val s = state.value
        if (!s.canSubmit) return
        val approval = Approval(s.login.trim(), pin.value)
        update { it.copy(submitting = true, failure = null) }
        scope.launch {
            val result = repository.enterContingency(s.justification.trim(), approval)
            pin.clear()
            result.fold(
                onSuccess = { update { it.copy(submitting = false, pinLength = 0, entered = true) } },
                onFailure = { e -> update { it.copy(submitting = false, pinLength = 0, failure = e.asPosFailure()) } },
            )
        }
    }
}
