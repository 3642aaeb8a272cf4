package tenda.test

/** Just enough JSON to read the test stack's answers (objects, arrays, strings, numbers, literals). */
object Json {
    fun parse(text: String): Any? = Reader(text).run { value().also { skip(); check(at == text.length) { "trailing text" } } }

    private class Reader(val s: String) {
        var at = 0

        fun skip() {
            while (at < s.length && s[at].isWhitespace()) at++
        }

        fun value(): Any? {
            skip()
            return when (val c = s[at]) {
                '{' -> obj()
                '[' -> arr()
                '"' -> str()
                't' -> literal("true", true)
                'f' -> literal("false", false)
                'n' -> literal("null", null)
                else -> if (c == '-' || c.isDigit()) num() else error("unexpected '$c' at $at")
            }
        }

        fun literal(word: String, v: Any?): Any? {
            check(s.startsWith(word, at)) { "bad literal at $at" }
            at += word.length
            return v
        }

        fun num(): Long {
            val start = at
            if (s[at] == '-') at++
            while (at < s.length && s[at].isDigit()) at++
            check(at == s.length || s[at] !in ".eE") { "only integers are expected (money is centavos)" }
            return s.substring(start, at).toLong()
        }

        fun str(): String {
            val out = StringBuilder()
            at++
            while (s[at] != '"') {
                if (s[at] == '\\') {
                    at++
                    when (val e = s[at]) {
                        'n' -> out.append('\n')
                        't' -> out.append('\t')
                        'r' -> out.append('\r')
                        'b' -> out.append('\b')
                        'f' -> out.append('\u000c')
                        'u' -> {
                            out.append(s.substring(at + 1, at + 5).toInt(16).toChar())
                            at += 4
                        }
                        else -> out.append(e)
                    }
                } else {
                    out.append(s[at])
                }
                at++
            }
            at++
            return out.toString()
        }

        fun arr(): List<Any?> {
            val out = mutableListOf<Any?>()
            at++
            skip()
            if (s[at] == ']') return out.also { at++ }
            while (true) {
                out.add(value())
                skip()
                if (s[at++] == ']') return out
            }
        }

        fun obj(): Map<String, Any?> {
            val out = linkedMapOf<String, Any?>()
            at++
            skip()
            if (s[at] == '}') return out.also { at++ }
            while (true) {
                skip()
                val key = str()
                skip()
                at++ // ':'
                out[key] = value()
                skip()
                if (s[at++] == '}') return out
            }
        }
    }
}

/** A JSON object's member: `answer["sales"]`. */
@Suppress("UNCHECKED_CAST")
operator fun Any?.get(key: String): Any? = (this as Map<String, Any?>)[key]

@Suppress("UNCHECKED_CAST")
fun Any?.obj(key: String): Map<String, Any?> = (this as Map<String, Any?>)[key] as Map<String, Any?>

@Suppress("UNCHECKED_CAST")
fun Any?.list(key: String): List<Any?> = (this as Map<String, Any?>)[key] as List<Any?>

@Suppress("UNCHECKED_CAST")
fun Any?.str(key: String): String = (this as Map<String, Any?>)[key] as String

@Suppress("UNCHECKED_CAST")
fun Any?.long(key: String): Long = (this as Map<String, Any?>)[key] as Long
