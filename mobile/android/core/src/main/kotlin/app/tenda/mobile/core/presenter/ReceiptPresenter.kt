package app.tenda.mobile.core.presenter

import app.tenda.mobile.core.api.PosFailure
import app.tenda.mobile.core.api.PosRepository
import app.tenda.mobile.core.api.ReceiptPreview
import app.tenda.mobile.core.api.SaleOutcome
import app.tenda.mobile.core.api.asPosFailure
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.launch

data class ReceiptState(
    val sale: SaleOutcome,
    /** The receipt as the printer prints it (the core renders it). */
    val preview: ReceiptPreview? = null,
    val printing: Boolean = false,
    val printed: Boolean = sale.printed,
    /** Why the last print failed (paper, cover, link); the sale stands, printing can be retried. */
    val printError: String? = sale.printError,
    val failure: PosFailure? = null,
)

sealed interface ReceiptEvent {
    data object Print : ReceiptEvent
    data object DismissFailure : ReceiptEvent
}

/** The finished sale: its receipt preview, whether it printed, and printing again. */
class ReceiptPresenter(
    private val repository: PosRepository,
    sale: SaleOutcome,
    private val scope: CoroutineScope,
) : Presenter<ReceiptState, ReceiptEvent>(ReceiptState(sale)) {
    init {
        scope.launch {
            repository.receiptPreview(sale.saleId).fold(
                onSuccess = { preview -> update { it.copy(preview = preview) } },
                onFailure = { e -> update { it.copy(failure = e.asPosFailure()) } },
            )
        }
    }

    override fun handle(event: ReceiptEvent) {
        when (event) {
            ReceiptEvent.Print -> print()
            ReceiptEvent.DismissFailure -> update { it.copy(failure = null) }
        }
    }

    private fun print() {
        if (state.value.printing) return
        update { it.copy(printing = true) }
        scope.launch {
            repository.reprint(state.value.sale.saleId).fold(
                onSuccess = { o -> update { it.copy(printing = false, printed = o.printed, printError = o.printError) } },
                onFailure = { e -> update { it.copy(printing = false, failure = e.asPosFailure()) } },
            )
        }
    }
}
