package app.tenda.mobile.core.presenter

import app.tenda.mobile.core.api.Approval
import app.tenda.mobile.core.api.Discount
import app.tenda.mobile.core.api.Money
import app.tenda.mobile.core.api.PosFailure
import app.tenda.mobile.core.api.PosRepository
import app.tenda.mobile.core.api.ProductView
import app.tenda.mobile.core.api.Ticket
import app.tenda.mobile.core.api.asPosFailure
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.launch
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock

enum class ScanSource { CAMERA, SCANNER }

/** An action the core may refuse for lack of permission, which a manager can then approve. */
sealed interface GuardedAction {
    data class VoidLine(val line: Int) : GuardedAction
    data class LineDiscount(val line: Int, val discount: Discount?) : GuardedAction
    data class SaleDiscount(val discount: Discount?) : GuardedAction
    data class OpenRegister(val float: Money) : GuardedAction
}

/** The manager's approval dialog over the counter; [permission] is the one the core asked for. */
data class ApprovalDialog(
    val action: GuardedAction,
    val permission: String,
    val login: String = "",
    val pinLength: Int = 0,
    val checking: Boolean = false,
    /** The last refusal (wrong PIN, locked out, not a manager), shown in the dialog. */
    val failure: PosFailure? = null,
) {
    val canConfirm: Boolean get() = login.isNotBlank() && pinLength > 0 && !checking
}

data class CounterState(
    val ticket: Ticket = Ticket.EMPTY,
    val query: String = "",
    val results: List<ProductView> = emptyList(),
    val approval: ApprovalDialog? = null,
    /** The last refusal outside the dialog (unknown code, no stock…), until dismissed. */
    val failure: PosFailure? = null,
    /** The code of the last successful scan and where it came from, for the seller's feedback. */
    val lastScan: Pair<String, ScanSource>? = null,
) {
    val canPay: Boolean get() = !ticket.isEmpty && approval == null
}

sealed interface CounterEvent {
    data class Scanned(val code: String, val source: ScanSource) : CounterEvent
    /** A Bluetooth scanner in keyboard mode types the code, then Enter. */
    data class ScannerKey(val key: Char) : CounterEvent
    data class QueryChanged(val text: String) : CounterEvent
    data class AddProduct(val product: ProductView, val quantityThousandths: Long = 1000) : CounterEvent
    data class SetQuantity(val line: Int, val quantityThousandths: Long) : CounterEvent
    data class VoidLine(val line: Int) : CounterEvent
    data class SetLineDiscount(val line: Int, val discount: Discount?) : CounterEvent
    data class SetSaleDiscount(val discount: Discount?) : CounterEvent
    data class ApprovalLoginChanged(val login: String) : CounterEvent
    data class ApprovalPinDigit(val digit: Char) : CounterEvent
    data object ApprovalPinBackspace : CounterEvent
    data object ApprovalConfirm : CounterEvent
    data object ApprovalDismiss : CounterEvent
    data object DismissFailure : CounterEvent
    data object Refresh : CounterEvent
}

/**
 * The counter: ringing items up by scan or search, quantities, discounts and voids. When the
 * core answers `forbidden`, the action waits in a manager's approval dialog and is retried with
 * the manager's credentials; the core checks them and audits both people.
 */
class CounterPresenter(
    private val repository: PosRepository,
    private val scope: CoroutineScope,
) : Presenter<CounterState, CounterEvent>(CounterState()) {
    /** Ticket changes apply in the order the seller made them (the mutex is first come, first served). */
    private val ticketChanges = Mutex()
    private val scannerBuffer = StringBuilder()
    private val approvalPin = PinEntry()
    private var search: Job? = null

    init {
        refresh()
    }

    override fun handle(event: CounterEvent) {
        when (event) {
            is CounterEvent.Scanned -> scan(event.code, event.source)
            is CounterEvent.ScannerKey -> scannerKey(event.key)
            is CounterEvent.QueryChanged -> query(event.text)
            is CounterEvent.AddProduct -> change { repository.addProduct(event.product, event.quantityThousandths) }
            is CounterEvent.SetQuantity -> change { repository.setQuantity(event.line, event.quantityThousandths) }
            is CounterEvent.VoidLine -> guarded(GuardedAction.VoidLine(event.line))
            is CounterEvent.SetLineDiscount -> guarded(GuardedAction.LineDiscount(event.line, event.discount))
            is CounterEvent.SetSaleDiscount -> guarded(GuardedAction.SaleDiscount(event.discount))
            is CounterEvent.ApprovalLoginChanged -> update { s -> s.copy(approval = s.approval?.copy(login = event.login)) }
            is CounterEvent.ApprovalPinDigit -> approvalPinEdit { approvalPin.type(event.digit) }
            CounterEvent.ApprovalPinBackspace -> approvalPinEdit { approvalPin.erase() }
            CounterEvent.ApprovalConfirm -> confirmApproval()
            CounterEvent.ApprovalDismiss -> {
                approvalPin.clear()
                update { it.copy(approval = null) }
            }
            CounterEvent.DismissFailure -> update { it.copy(failure = null) }
            CounterEvent.Refresh -> refresh()
        }
    }

    private fun refresh() = change { repository.ticket() }

    private fun scan(code: String, source: ScanSource) {
        val trimmed = code.trim()
        if (trimmed.isEmpty()) return
        change(onSuccess = { it.copy(lastScan = trimmed to source, query = "", results = emptyList()) }) {
            repository.scan(trimmed)
        }
    }

    private fun scannerKey(key: Char) {
        when (key) {
            '\n', '\r' -> {
                val code = scannerBuffer.toString()
                scannerBuffer.setLength(0)
                scan(code, ScanSource.SCANNER)
            }
            else -> if (!key.isISOControl()) scannerBuffer.append(key)
        }
    }

    private fun query(text: String) {
        update { it.copy(query = text) }
        search?.cancel()
        if (text.trim().length < MIN_QUERY) {
            update { it.copy(results = emptyList()) }
            return
        }
        search = scope.launch {
            repository.searchProducts(text.trim(), SEARCH_LIMIT).fold(
                onSuccess = { found -> update { if (it.query == text) it.copy(results = found) else it } },
                onFailure = { e -> update { it.copy(failure = e.asPosFailure()) } },
            )
        }
    }

    private fun guarded(action: GuardedAction, approval: Approval? = null) {
        scope.launch {
            val result = ticketChanges.withLock {
                when (action) {
                    is GuardedAction.VoidLine -> repository.voidLine(action.line, approval)
                    is GuardedAction.LineDiscount -> repository.setLineDiscount(action.line, action.discount, approval)
                    is GuardedAction.SaleDiscount -> repository.setSaleDiscount(action.discount, approval)
                    // Opened on its own screen, never from the counter.
                    is GuardedAction.OpenRegister -> Result.failure(PosFailure.InvalidState("open register", "not from the counter"))
                }
            }
            approvalPin.clear()
            result.fold(
                onSuccess = { ticket -> update { it.copy(ticket = ticket, approval = null, failure = null) } },
                onFailure = { e ->
                    val failure = e.asPosFailure()
                    update { s ->
                        when {
                            // The seller may not: ask a manager, keeping the action to retry.
                            approval == null && failure is PosFailure.Forbidden ->
                                s.copy(approval = ApprovalDialog(action, failure.permission))
                            // The manager's attempt failed: say why inside the dialog.
                            approval != null && s.approval != null ->
                                s.copy(approval = s.approval.copy(checking = false, pinLength = 0, failure = failure))
                            else -> s.copy(failure = failure)
                        }
                    }
                },
            )
        }
    }

    private fun approvalPinEdit(edit: () -> Unit) {
        val dialog = state.value.approval ?: return
        if (dialog.checking) return
        edit()
        update { it.copy(approval = it.approval?.copy(pinLength = approvalPin.length)) }
    }

    private fun confirmApproval() {
        val dialog = state.value.approval ?: return
        if (!dialog.canConfirm) return
        val approval = Approval(dialog.login.trim(), approvalPin.value)
        update { it.copy(approval = dialog.copy(checking = true, failure = null)) }
        guarded(dialog.action, approval)
    }

    private fun change(
        onSuccess: (CounterState) -> CounterState = { it },
        call: suspend () -> Result<Ticket>,
    ) {
        scope.launch {
            val result = ticketChanges.withLock { call() }
            result.fold(
                onSuccess = { ticket -> update { onSuccess(it.copy(ticket = ticket, failure = null)) } },
                onFailure = { e -> update { it.copy(failure = e.asPosFailure()) } },
            )
        }
    }

    private companion object {
        const val MIN_QUERY = 2
        const val SEARCH_LIMIT = 30
    }
}
