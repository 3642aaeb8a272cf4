package app.tenda.mobile.core.api

import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers

/**
 * Where work runs. The FFI calls block on SQLCipher and the Rust runtime, so they go to [io];
 * the app gives presenters a scope on its main dispatcher.
 */
data class PosDispatchers(val io: CoroutineDispatcher) {
    companion object {
        val DEFAULT = PosDispatchers(io = Dispatchers.IO)
    }
}
