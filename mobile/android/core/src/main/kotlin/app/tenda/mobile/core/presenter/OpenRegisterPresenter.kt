package app.tenda.mobile.core.presenter

import app.tenda.mobile.core.api.Approval
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
    /** A seller opening the register: the manager approves on this device. */
    val approval: ApprovalDialog? = null,
    val failure: PosFailure? = null,
) {
    val float: Money? get() = Money.parse(floatText)
    val canSubmit: Boolean get() = !checking && !open && !submitting && approval == null && float != null
}

sealed interface OpenRegisterEvent {
    data class FloatChanged(val text: String) : OpenRegisterEvent
    data object Submit : OpenRegisterEvent
    data class ApprovalLoginChanged(val login: String) : OpenRegisterEvent
    data class ApprovalPinDigit(val digit: Char) : OpenRegisterEvent
    data object ApprovalPinBackspace : OpenRegisterEvent
    data object ApprovalConfirm : OpenRegisterEvent
    data object ApprovalDismiss : OpenRegisterEvent
}

/**
 * After sign-in: the register is opened with its cash float, unless it already is. The core asks
 * for a manager's approval when a seller opens it; the same approval dialog as the counter's.
 */
class OpenRegisterPresenter(
    private val repository: PosRepository,
    private val scope: CoroutineScope,
) : Presenter<OpenRegisterState, OpenRegisterEvent>(OpenRegisterState()) {
    private val approvalPin = PinEntry()

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
            OpenRegisterEvent.Submit -> {
                val s = state.value
                val float = s.float
                if (s.canSubmit && float != null) open(float, approval = null)
            }
            is OpenRegisterEvent.ApprovalLoginChanged -> update { s -> s.copy(approval = s.approval?.copy(login = event.login)) }
            is OpenRegisterEvent.ApprovalPinDigit -> approvalPinEdit { approvalPin.type(event.digit) }
            OpenRegisterEvent.ApprovalPinBackspace -> approvalPinEdit { approvalPin.erase() }
            OpenRegisterEvent.ApprovalConfirm -> {
                val dialog = state.value.approval ?: return
                val action = dialog.action as? GuardedAction.OpenRegister ?: return
                if (!dialog.canConfirm) return
                update { it.copy(approval = dialog.copy(checking = true, failure = null)) }
                open(action.float, Approval(dialog.login.trim(), approvalPin.value))
            }
            OpenRegisterEvent.ApprovalDismiss -> {
                approvalPin.clear()
                update { it.copy(approval = null) }
            }
        }
    }

    private fun approvalPinEdit(edit: () -> Unit) {
        val dialog = state.value.approval ?: return
        if (dialog.checking) return
        edit()
        update { it.copy(approval = it.approval?.copy(pinLength = approvalPin.length)) }
    }

    private fun open(float: Money, approval: Approval?) {
        update { it.copy(submitting = true, failure = null) }
        scope.launch {
            val result = repository.openRegister(float, approval)
            approvalPin.clear()
            result.fold(
                onSuccess = { update { it.copy(submitting = false, open = true, approval = null) } },
                onFailure = { e ->
                    val failure = e.asPosFailure()
                    update { s ->
                        when {
                            approval == null && failure is PosFailure.Forbidden ->
                                s.copy(submitting = false, approval = ApprovalDialog(GuardedAction.OpenRegister(float), failure.permission))
                            approval != null && s.approval != null ->
                                s.copy(submitting = false, approval = s.approval.copy(checking = false, pinLength = 0, failure = failure))
                            else -> s.copy(submitting = false, failure = failure)
                        }
                    }
                },
            )
        }
    }
}
