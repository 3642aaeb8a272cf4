package app.tenda.mobile.core.test

import app.tenda.mobile.core.api.Clock
import java.time.Duration
import java.time.Instant
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.asStateFlow

/** A clock that moves only when the test says so; its ticks are each instant it is moved to. */
class TestClock(start: Instant = Instant.parse("2026-12-05T12:00:00Z")) : Clock {
    private val time = MutableStateFlow(start)

    override fun now(): Instant = time.value

    override fun ticks(period: Duration): Flow<Instant> = time.asStateFlow()

    fun advanceBy(duration: Duration) {
        time.value = time.value + duration
    }
}
