package app.tenda.mobile.core.api

import java.time.Duration
import java.time.Instant
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.flow

/**
 * Wall time for countdowns (lockout, contingency deadlines). Tests pass a clock they advance by
 * hand, so a five-minute lockout is checked without waiting five minutes.
 */
interface Clock {
    fun now(): Instant

    /** The current instant, then again every [period] while collected. */
    fun ticks(period: Duration): Flow<Instant>
}

object SystemClock : Clock {
    override fun now(): Instant = Instant.now()

    override fun ticks(period: Duration): Flow<Instant> = flow {
        while (true) {
            emit(Instant.now())
            delay(period.toMillis())
        }
    }
}
