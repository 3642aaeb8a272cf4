package app.tenda.mobile.core.ffi

/** Just enough JSON to read the test stack's one-line answers (no library on this classpath). */
internal object Json {
    fun parse(text: String): Any? = Reader(text).run { value().also { skipSpace(); check(pos == text.length) { "trailing text" } } }

    private class Reader(val s: String) {
        var pos = 0

        fun skipSpace() {
            while (pos < s.length && s[pos].isWhitespace()) pos++
        }

        fun value(): Any? {
            skipSpace()
            return when (val c = s[pos]) {
                '{' -> obj()
                '[' -> arr()
                '"' -> str()
                't' -> literal("true", true)
                'f' -> literal("false", false)
                'n' -> literal("null", null)
                else -> if (c == '-' || c.isDigit()) num() else error("unexpected '$c' at $pos")
            }
        }

        fun literal(word: String, v: Any?): Any? {
            check(s.startsWith(word, pos)) { "bad literal at $pos" }
            pos += word.length
            return v
        }

        fun num(): Long {
            val start = pos
            if (s[pos] == '-') pos++
            while (pos < s.length && s[pos].isDigit()) pos++
            check(pos == s.length || s[pos] !in ".eE") { "only integers are expected (money is centavos)" }
            return s.substring(start, pos).toLong()
        }

        fun str(): String {
            val out = StringBuilder()
            pos++
            while (s[pos] != '"') {
                if (s[pos] == '\\') {
                    pos++
                    when (val e = s[pos]) {
                        'n' -> out.append('\n')
                        't' -> out.append('\t')
                        'r' -> out.append('\r')
                        'b' -> out.append('\b')
                        'f' -> out.append('\u000c')
                        'u' -> {
                            out.append(s.substring(pos + 1, pos + 5).toInt(16).toChar())
                            pos += 4
                        }
                        else -> out.append(e)
                    }
                } else {
                    out.append(s[pos])
                }
                pos++
            }
            pos++
            return out.toString()
        }

        fun arr(): List<Any?> {
            pos++
            val out = mutableListOf<Any?>()
            skipSpace()
            if (s[pos] == ']') return out.also { pos++ }
            while (true) {
                out += value()
                skipSpace()
                if (s[pos++] == ']') return out
            }
        }

        fun obj(): Map<String, Any?> {
            pos++
            val out = linkedMapOf<String, Any?>()
            skipSpace()
            if (s[pos] == '}') return out.also { pos++ }
            while (true) {
                skipSpace()
                val key = str()
                skipSpace()
                check(s[pos++] == ':')
                out[key] = value()
                skipSpace()
                if (s[pos++] == '}') return out
            }
        }
    }
}

@Suppress("UNCHECKED_CAST")
internal operator fun Any?.get(key: String): Any? = (this as Map<String, Any?>)[key]
