package app.tenda.mobile.core.ffi

import tenda.test.Json
import tenda.test.get
import java.io.BufferedReader
import java.io.File

/**
 * The store's outside world for the shift test: `tenda-test-stack` (a real tenda-server on
 * loopback with SQLite, and the SEFAZ simulator, each behind a link the test can cut). It stops
 * when its stdin closes, so a failed test takes it down.
 */
internal class TestStack : AutoCloseable {
    private val process: Process = ProcessBuilder(
        System.getProperty("tenda.testStack") ?: error("-Dtenda.testStack=<path of tenda-test-stack> is required"),
    ).redirectError(ProcessBuilder.Redirect.INHERIT).start()
    private val answers: BufferedReader = process.inputStream.bufferedReader()
    val description: Any? = Json.parse(answers.readLine() ?: error("tenda-test-stack exited before describing itself"))

    @Synchronized
    fun command(line: String): Any? {
        process.outputStream.write("$line\n".toByteArray())
        process.outputStream.flush()
        return Json.parse(answers.readLine() ?: error("tenda-test-stack exited on '$line'"))
    }

    fun cut() = command("cut")
    fun restore() = command("restore")

    /** Every sale the server holds. */
    @Suppress("UNCHECKED_CAST")
    fun serverSales(): List<Map<String, Any?>> = command("sales")["sales"] as List<Map<String, Any?>>

    override fun close() {
        process.outputStream.close()
        process.waitFor()
    }

    companion object {
        fun hex(text: String): ByteArray = ByteArray(text.length / 2) { text.substring(2 * it, 2 * it + 2).toInt(16).toByte() }

        /** SEFAZ at the simulator (behind the stack's link) with short pauses: the test restores
         *  the link within seconds, a store within minutes. */
        fun sefaz(url: String, caDerHex: String): tenda.pos.SefazAccess =
            tenda.ffi.sefazAccess(url, listOf(hex(caDerHex))).copy(
                connectTimeoutMs = 1_000u,
                requestTimeoutMs = 2_000u,
                transportPauseMs = 10u,
                unavailablePauseMs = 10u,
                probeIntervalMs = 500u,
            )

        fun tempDir(): File = kotlin.io.path.createTempDirectory("tenda-mobile-ffi").toFile()
    }
}
