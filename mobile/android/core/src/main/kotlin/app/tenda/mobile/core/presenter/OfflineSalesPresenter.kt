package app.tenda.mobile.core.presenter

import app.tenda.mobile.core.api.Clock
import app.tenda.mobile.core.api.OfflineSale
import app.tenda.mobile.core.api.PosFailure
import app.tenda.mobile.core.api.PosRepository
import app.tenda.mobile.core.api.SyncNowOutcome
import app.tenda.mobile.core.api.asPosFailure
import java.time.Duration
import java.time.Instant
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.flow.distinctUntilChanged
import kotlinx.coroutines.flow.map
import kotlinx.coroutines.launch

/** One sale waiting for the server or SEFAZ, with the time left to transmit its note. */
data class OfflineSaleRow(val sale: OfflineSale, val deadlineLeft: Duration?) {
    val overdue: Boolean get() = deadlineLeft != null && (deadlineLeft.isNegative || deadlineLeft.isZero)
}

data class OfflineSalesState(
    val loading: Boolean = true,
    /** In the core's order: nearest deadline first, then oldest first. */
    val rows: List<OfflineSaleRow> = emptyList(),
    val syncing: Boolean = false,
    val lastSync: SyncNowOutcome? = null,
    val failure: PosFailure? = null,
)

sealed interface OfflineSalesEvent {
    data object SyncNow : OfflineSalesEvent
    data class Reprint(val saleId: String) : OfflineSalesEvent
    data object DismissFailure : OfflineSalesEvent
}

/**
 * Sales not yet on the server or whose note is not yet authorized. The list reloads whenever the
 * core's pending counts change, and the deadlines count down each second.
 */
class OfflineSalesPresenter(
    private val repository: PosRepository,
    private val clock: Clock,
    private val scope: CoroutineScope,
) : Presenter<OfflineSalesState, OfflineSalesEvent>(OfflineSalesState()) {
    private var sales: List<OfflineSale> = emptyList()

    init {
        scope.launch {
            repository.status
                .map { it.pendingSync to it.pendingNotes }
                .distinctUntilChanged()
                .collect { reload() }
        }
        scope.launch {
            clock.ticks(Duration.ofSeconds(1)).collect { now -> update { it.copy(rows = rows(sales, now)) } }
        }
    }

    override fun handle(event: OfflineSalesEvent) {
        when (event) {
            OfflineSalesEvent.SyncNow -> syncNow()
            is OfflineSalesEvent.Reprint -> scope.launch {
                repository.reprint(event.saleId).onFailure { e -> update { it.copy(failure = e.asPosFailure()) } }
            }
            OfflineSalesEvent.DismissFailure -> update { it.copy(failure = null) }
        }
    }

    private suspend fun reload() {
        repository.offlineSales().fold(
            onSuccess = { found ->
                sales = found
                update { it.copy(loading = false, rows = rows(found, clock.now())) }
            },
            onFailure = { e -> update { it.copy(loading = false, failure = e.asPosFailure()) } },
        )
    }

    private fun syncNow() {
        if (state.value.syncing) return
        update { it.copy(syncing = true) }
        scope.launch {
            repository.syncNow().fold(
                onSuccess = { o -> update { it.copy(syncing = false, lastSync = o) } },
                onFailure = { e -> update { it.copy(syncing = false, failure = e.asPosFailure()) } },
            )
        }
    }

    private fun rows(sales: List<OfflineSale>, now: Instant) =
        sales.map { sale -> OfflineSaleRow(sale, sale.note?.deadline?.let { Duration.between(now, it) }) }
}
