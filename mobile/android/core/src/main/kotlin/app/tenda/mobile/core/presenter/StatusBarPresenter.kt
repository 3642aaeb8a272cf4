package app.tenda.mobile.core.presenter

import app.tenda.mobile.core.api.Clock
import app.tenda.mobile.core.api.DeadlineAlarm
import app.tenda.mobile.core.api.LinkState
import app.tenda.mobile.core.api.PeripheralState
import app.tenda.mobile.core.api.PosStatus
import app.tenda.mobile.core.api.SefazMode
import java.time.Duration
import java.time.Instant
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.combine
import kotlinx.coroutines.launch

/** Time left to transmit the oldest contingency note; negative once the deadline passed. */
data class DeadlineCountdown(val deadline: Instant, val left: Duration, val alarm: DeadlineAlarm?) {
    val overdue: Boolean get() = left.isNegative || left.isZero
}

data class StatusBarState(
    val link: LinkState = LinkState.OFFLINE,
    val mode: SefazMode = SefazMode.NORMAL,
    /** Sales and other changes the server has not acknowledged. */
    val pendingSales: Long = 0,
    /** Contingency notes SEFAZ has not authorized. */
    val pendingNotes: Int = 0,
    val notesNeedingCorrection: Int = 0,
    val deadline: DeadlineCountdown? = null,
    val printer: PeripheralState = PeripheralState.NotConfigured,
    val cardReader: PeripheralState = PeripheralState.NotConfigured,
) {
    /** The number on the badge: everything still waiting for the server or SEFAZ. */
    val badge: Long get() = pendingSales + pendingNotes

    /** SEFAZ is unreachable and a manager must decide: the bar offers contingency entry. */
    val offersContingency: Boolean get() = mode == SefazMode.CONTINGENCY_REQUIRED
}

sealed interface StatusBarEvent

/**
 * The bar on every screen: online, offline or in contingency, what is pending, and the nearest
 * deadline counting down each second.
 */
class StatusBarPresenter(
    status: StateFlow<PosStatus>,
    clock: Clock,
    scope: CoroutineScope,
) : Presenter<StatusBarState, StatusBarEvent>(StatusBarState()) {
    init {
        scope.launch {
            combine(status, clock.ticks(Duration.ofSeconds(1))) { s, now -> state(s, now) }
                .collect { next -> update { next } }
        }
    }

    override fun handle(event: StatusBarEvent) = Unit

    private fun state(s: PosStatus, now: Instant) = StatusBarState(
        link = s.link,
        mode = s.sefaz,
        pendingSales = s.pendingSync,
        pendingNotes = s.pendingNotes,
        notesNeedingCorrection = s.notesNeedingCorrection,
        deadline = s.nearestDeadline?.let { DeadlineCountdown(it, Duration.between(now, it), s.deadlineAlarm) },
        printer = s.printer,
        cardReader = s.cardReader,
    )
}
