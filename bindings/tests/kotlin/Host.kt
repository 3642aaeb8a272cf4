package tenda.test

import java.io.BufferedReader
import java.io.BufferedWriter
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.callbackFlow
import tenda.ffi.Pos
import tenda.ffi.openConfig
import tenda.ffi.sefazAccess
import tenda.ffi.SimulatedPeripheral
import tenda.pos.Approval
import tenda.pos.KeyStore
import tenda.pos.OpenConfig
import tenda.pos.SefazRoute
import tenda.pos.PeripheralLink
import tenda.pos.PosStatus
import tenda.pos.Secret
import tenda.pos.StatusListener

/** The running `tenda-test-stack`: a real tenda-server and the SEFAZ simulator on loopback. */
class TestStack private constructor(private val process: Process) {
    private val input: BufferedWriter = process.outputStream.bufferedWriter()
    private val output: BufferedReader = process.inputStream.bufferedReader()
    val info: Any? = Json.parse(output.readLine())

    @Synchronized
    fun command(line: String): Any? {
        input.write(line + "\n")
        input.flush()
        val answer = Json.parse(output.readLine())
        check((answer as Map<*, *>)["error"] == null) { "stack: $answer" }
        return answer
    }

    fun cut() = command("cut")
    fun restore() = command("restore")
    fun sales(): List<Any?> = command("sales").list("sales")
    fun noteAtSefaz(accessKey: String): Any? = (command("note $accessKey") as Map<*, *>)["note"]
    fun newCode(): String = command("code").str("code")

    /** Where the register keeps its store, and SEFAZ at the simulator (behind the link) with
     *  short pauses: a test restores the link within seconds, a store within minutes. */
    fun config(dbPath: String, account: String): OpenConfig {
        val access = sefazAccess(info.str("sefaz_url"), listOf(hex(info.str("sefaz_ca_der_hex")))).copy(
            connectTimeoutMs = 1_000u,
            requestTimeoutMs = 2_000u,
            transportPauseMs = 10u,
            unavailablePauseMs = 10u,
            probeIntervalMs = 500u,
        )
        return openConfig(dbPath, account).copy(sefaz = SefazRoute.At(access))
    }

    fun approval(who: String): Approval {
        val person = info.obj(who)
        val secret = person["pin"]?.let { Secret.Pin(it as String) }
            ?: Secret.Password(person["password"] as String)
        return Approval(person["login"] as String, secret)
    }

    fun stop() {
        input.close()
        process.waitFor(30, TimeUnit.SECONDS)
    }

    companion object {
        /** One stack for the whole test run (started on first use, stopped at JVM exit). */
        val shared: TestStack by lazy {
            val binary = System.getenv("TENDA_TEST_STACK")
                ?: error("TENDA_TEST_STACK names the tenda-test-stack binary (scripts/test.d/bindings-kotlin)")
            val stack = TestStack(ProcessBuilder(binary).redirectError(ProcessBuilder.Redirect.INHERIT).start())
            Runtime.getRuntime().addShutdownHook(Thread { stack.stop() })
            stack
        }
    }
}

fun hex(text: String): ByteArray = ByteArray(text.length / 2) { text.substring(2 * it, 2 * it + 2).toInt(16).toByte() }

/** The platform keystore as a phone gives it. */
class MemoryVault : KeyStore {
    private val keys = java.util.concurrent.ConcurrentHashMap<String, ByteArray>()
    override fun load(account: String): ByteArray? = keys[account]
    override fun save(account: String, key: ByteArray) {
        keys[account] = key
    }
}

/** A keystore that fails as a locked Android Keystore does. */
class BrokenVault : KeyStore {
    override fun load(account: String): ByteArray? = throw IllegalStateException("keystore locked")
    override fun save(account: String, key: ByteArray) = throw IllegalStateException("keystore locked")
}

/** The host's byte link (its Bluetooth stack) to a simulated peripheral; it can drop mid-way. */
class SimulatedLink(private val peripheral: SimulatedPeripheral, private val failAfterBytes: Int? = null) : PeripheralLink {
    private var written = 0

    override fun connect(): UShort = peripheral.connect()
    override fun acknowledgesWrites() = true
    override fun canRead() = true
    override fun disconnect() = peripheral.disconnect()
    override fun write(chunk: ByteArray) {
        if (failAfterBytes != null && written + chunk.size > failAfterBytes) throw java.io.IOException("Bluetooth link lost")
        written += chunk.size
        peripheral.write(chunk)
    }
    override fun read(timeoutMs: ULong): ByteArray? = peripheral.read(timeoutMs)
}

/** Every status delivered, and a way to wait for one that matches. */
class StatusRecorder : StatusListener {
    val seen = mutableListOf<PosStatus>()
    private val lock = Object()

    override fun onStatus(status: PosStatus) = synchronized(lock) {
        seen.add(status)
        lock.notifyAll()
    }

    fun count(): Int = synchronized(lock) { seen.size }

    fun waitFor(timeoutMs: Long = 30_000, predicate: (PosStatus) -> Boolean) = synchronized(lock) {
        val deadline = System.currentTimeMillis() + timeoutMs
        while (seen.none(predicate)) {
            val left = deadline - System.currentTimeMillis()
            check(left > 0) { "no status matched in $timeoutMs ms; last: ${seen.lastOrNull()}" }
            lock.wait(left)
        }
    }
}

/** The status as a Flow, the way the mobile core consumes it: the subscription lives while
 *  the flow is collected and is cancelled when collection stops. `delivered` counts what the
 *  listener received, so a test can see delivery stop. */
fun Pos.statusFlow(delivered: java.util.concurrent.atomic.AtomicInteger? = null): Flow<PosStatus> = callbackFlow {
    val subscription = subscribe(object : StatusListener {
        override fun onStatus(status: PosStatus) {
            delivered?.incrementAndGet()
            trySend(status)
        }
    })
    awaitClose {
        subscription.cancel()
        subscription.close()
    }
}
