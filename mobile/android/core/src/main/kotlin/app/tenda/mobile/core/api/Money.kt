package app.tenda.mobile.core.api

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
         */
        fun parse(typed: String): Money? {
            val text = typed.trim().removePrefix("R$").trim()
            val (whole, fraction) = when {
                // With a comma, the comma marks centavos and dots group thousands ("1.234,56").
                ',' in text -> text.substringBeforeLast(',') to text.substringAfterLast(',')
                // One dot with at most two digits after it marks centavos ("12.50").
                text.count { it == '.' } == 1 && text.substringAfterLast('.').length <= 2 ->
                    text.substringBefore('.') to text.substringAfter('.')
                else -> text to ""
            }
            if (!groupsOfThousands(whole) || fraction.length > 2 || !fraction.all { it in '0'..'9' }) {
                return null
            }
            val wholeDigits = whole.replace(".", "")
            if (wholeDigits.isEmpty() && fraction.isEmpty()) return null
            if (wholeDigits.length > 15) return null
            val reais = if (wholeDigits.isEmpty()) 0L else wholeDigits.toLong()
            return Money(reais * 100 + fraction.padEnd(2, '0').toLong())
        }

        /** "1234", "1.234" and "12.345.678" are whole reais; "1.23.4" is a typo. */
        private fun groupsOfThousands(whole: String): Boolean {
            if (!whole.all { it in '0'..'9' || it == '.' }) return false
            val groups = whole.split('.')
            return groups.size == 1 || (groups.first().length in 1..3 && groups.drop(1).all { it.length == 3 })
        }
    }
}

/** "R$ 1.234,56", the way receipts and the core's own reports print amounts. */
fun Money.format(): String {
    val negative = centavos < 0
    val absolute = if (negative) -centavos else centavos
    val reais = (absolute / 100).toString().reversed().chunked(3).joinToString(".").reversed()
    val cents = (absolute % 100).toString().padStart(2, '0')
    return (if (negative) "-R$ " else "R$ ") + reais + "," + cents
}
