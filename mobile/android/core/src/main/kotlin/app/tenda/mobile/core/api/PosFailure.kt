package app.tenda.mobile.core.api

import java.time.Instant

/**
 * The core's error, one subclass per variant of its `PosError`, each with the same stable [code]
 * screens branch on (never the message). Repository calls fail with these inside `Result`.
 */
sealed class PosFailure(message: String) : Exception(message) {
    abstract val code: String

    /** Needs the network or SEFAZ; [why] is the core's reason, shown as is. */
    data class Offline(val what: String, val why: String) : PosFailure("$what is not available offline: $why") {
        override val code get() = "offline"
    }

    /** The signed-in user lacks [permission]; a manager's approval may grant it. */
    data class Forbidden(val permission: String) : PosFailure("requires permission $permission") {
        override val code get() = "forbidden"
    }

    data class WrongCredentials(val remainingAttempts: Int) :
        PosFailure("wrong credentials ($remainingAttempts attempts left)") {
        override val code get() = "wrong_credentials"
    }

    data class LockedOut(val until: Instant) : PosFailure("locked out until $until") {
        override val code get() = "locked_out"
    }

    data class InvalidInput(val field: String, val reason: String) : PosFailure("invalid $field: $reason") {
        override val code get() = "invalid_input"
    }

    /** An outside authority (SEFAZ, the card network, the server) said no. */
    data class Rejected(val authorityCode: String, val reason: String) : PosFailure("rejected ($authorityCode): $reason") {
        override val code get() = "rejected"
    }

    data class LimitExceeded(val limit: String) : PosFailure("limit exceeded: $limit") {
        override val code get() = "limit_exceeded"
    }

    /** SEFAZ is unreachable: a manager must authorize contingency. */
    data object ContingencyRequired : PosFailure("SEFAZ unreachable: contingency must be authorized") {
        override val code get() = "contingency_required"
    }

    data class NotFound(val what: String) : PosFailure("not found: $what") {
        override val code get() = "not_found"
    }

    data class InvalidState(val action: String, val reason: String) : PosFailure("$action not possible: $reason") {
        override val code get() = "invalid_state"
    }

    data class InsufficientStock(val product: String) : PosFailure("insufficient stock for $product") {
        override val code get() = "insufficient_stock"
    }

    data class Peripheral(val device: String, val reason: String) : PosFailure("$device: $reason") {
        override val code get() = "peripheral"
    }

    /** The fiscal document could not be built or signed (emitter or product tax data): nothing was committed. */
    data class Fiscal(val detail: String) : PosFailure("fiscal document error: $detail") {
        override val code get() = "fiscal"
    }

    /** The platform keystore could not read or save the database key. */
    data class Keystore(val detail: String) : PosFailure("keystore error: $detail") {
        override val code get() = "keystore"
    }

    data class Storage(val detail: String) : PosFailure("storage error: $detail") {
        override val code get() = "storage"
    }

    /** The core was shut down: nothing more runs until the store is opened again. */
    data object ShutDown : PosFailure("the point of sale was shut down") {
        override val code get() = "shut_down"
    }

    /**
     * Code the app plugged into the core (key vault, Bluetooth link, status listener) failed with
     * something untyped; the core turned it into this error, and nothing was half-written.
     */
    data class Host(val detail: String) : PosFailure("host callback failed: $detail") {
        override val code get() = "host"
    }

    data class Internal(val detail: String) : PosFailure("internal error: $detail") {
        override val code get() = "internal"
    }
}

/** Any throwable as a [PosFailure], so state never holds an exception the screens cannot name. */
fun Throwable.asPosFailure(): PosFailure = this as? PosFailure ?: PosFailure.Internal(toString())
