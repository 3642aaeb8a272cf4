package app.tenda.mobile.core.test

import kotlin.coroutines.CoroutineContext
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel

/**
 * A single-threaded dispatcher that runs queued work only when the test calls [runCurrent], in
 * the order it was queued — what `kotlinx-coroutines-test`'s StandardTestDispatcher does for
 * presenters, in a few lines. Time is the [TestClock]'s, moved by hand.
 */
class TestScheduler : CoroutineDispatcher() {
    private val queue = ArrayDeque<Runnable>()

    override fun dispatch(context: CoroutineContext, block: Runnable) {
        queue.addLast(block)
    }

    /** Runs everything queued, including what that work queues, until nothing is left. */
    fun runCurrent() {
        var steps = 0
        while (queue.isNotEmpty()) {
            queue.removeFirst().run()
            check(++steps < MAX_STEPS) { "work keeps queueing more work: a busy loop?" }
        }
    }

    /** A scope for a presenter under test; [close] cancels what it started. */
    fun scope(): CoroutineScope = CoroutineScope(SupervisorJob() + this)

    fun close(scope: CoroutineScope) {
        scope.cancel()
        runCurrent()
    }

    private companion object {
        const val MAX_STEPS = 1_000_000
    }
}
