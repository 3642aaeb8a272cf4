package app.tenda.mobile.core.presenter

import app.tenda.mobile.core.api.Money
import app.tenda.mobile.core.api.PosFailure
import app.tenda.mobile.core.api.PosRepository
import app.tenda.mobile.core.api.asPosFailure
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.launch

data class OpenRegisterState(
    /** Asking the core whether the register is already open (it survives restarts). */
    val checking: Boolean = true,
    /** The register is open: the counter can sell. */
    val open: Boolean = false,
    /** The cash float in the drawer, as typed. */
    val floatText: String = "",
    val submitting: Boolean = false,
    val failure: PosFailure? = null,
) {
    val float: Money? get() = Money.parse(floatText)
    val canSubmit: Boolean get() = !checking && !open && !submitting && float != null
}

sealed interface OpenRegisterEvent {
    data class FloatChanged(val text: String) : OpenRegisterEvent
    data object Submit : OpenRegisterEvent
}

/** After sign-in: the register is opened with its cash float, unless it already is. */
class OpenRegisterPresenter(
    private val repository: PosRepository,
    private val scope: CoroutineScope,
) : Presenter<OpenRegisterState, OpenRegisterEvent>(OpenRegisterState()) {
    init {
        scope.launch {
            repository.registerIsOpen().fold(
                onSuccess = { open -> update { it.copy(checking = false, open = open) } },
                onFailure = { e -> update { it.copy(checking = false, failure = e.asPosFailure()) } },
            )
        }
    }

    override fun handle(event: OpenRegisterEvent) {
        when (event) {
            is OpenRegisterEvent.FloatChanged -> update { it.copy(floatText = event.text) }
            OpenRegisterEvent.Submit -> submit()
        }
    }

    private fun submit() {
        val s = state.value
        val float = s.float
        if (!s.canSubmit || float == null) return
        update { it.copy(submitting = true, failure = null) }
        scope.launch {
            repository.openRegister(float).fold(
                onSuccess = { update { it.copy(submitting = false, open = true) } },
                onFailure = { e -> update { it.copy(submitting = false, failure = e.asPosFailure()) } },
            )
        }
    }
}
