package app.tenda.mobile.core.api

import tenda.domain.formatBrl
import tenda.domain.parseTypedAmount

/**
 * An amount in integer centavos, as the Rust core keeps it. Arithmetic is exact and overflows
 * loudly; there is no floating point anywhere on the way from the keypad to the core.
 */
@JvmInline
value class Money(val centavos: Long) : Comparable<Money> {
    operator fun plus(other: Money): Money = Money(Math.addExact(centavos, other.centavos))

    operator fun minus(other: Money): Money = Money(Math.subtractExact(centavos, other.centavos))

    override fun compareTo(other: Money): Int = centavos.compareTo(other.centavos)

    val isPositive: Boolean get() = centavos > 0

    override fun toString(): String = "Money($centavos)"

    companion object {
        val ZERO = Money(0)

        /**
         * What a seller types on the amount keypad: "12", "12,5", "12,50", "1.234,56" (the Brazilian
         * habit) or "12.50". Returns null for anything else, so a typo is refused, never guessed.
         * The rule is the Rust core's (`parse_typed_amount`), shared with the iOS app.
         */
        fun parse(typed: String): Money? = parseTypedAmount(typed)?.let(::Money)
    }
}

/** "R$ 1.234,56", the way receipts and the core's own reports print amounts (the core's `format_brl`). */
fun Money.format(): String = formatBrl(centavos)
