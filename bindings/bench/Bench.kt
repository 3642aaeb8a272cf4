package tenda.bench

import java.nio.file.Files
import kotlinx.coroutines.runBlocking
import tenda.ffi.enroll
import tenda.ffi.statusEventBurst
import tenda.pos.Approval
import tenda.pos.KeyStore
import tenda.pos.EnrollmentRequest
import tenda.pos.PaymentRequest
import tenda.pos.PosStatus
import tenda.domain.Secret
import tenda.pos.StatusListener
import tenda.test.Json
import tenda.test.TestStack
import tenda.test.hex
import tenda.test.list
import tenda.test.obj
import tenda.test.str

/** The bindings bench from Kotlin on the JVM: the same offline checkout and scan round trips as
 *  examples/bench_ffi.rs, and status events delivered to a Kotlin listener. */
const val WARMUP = 100
const val CHECKOUTS = 300
const val SCANS = 2_000

class Vault : KeyStore {
    private val keys = HashMap<String, ByteArray>()
    override fun load(account: String): ByteArray? = keys[account]
    override fun save(account: String, key: ByteArray) { keys[account] = key }
}

class Counter : StatusListener {
    @Volatile var received = 0L
    @Volatile var last = 0UL
    override fun onStatus(status: PosStatus) {
        received++
        last = status.pendingSync
    }
}

fun p50(samples: List<Double>) = samples.sorted()[samples.size / 2]

fun main() = runBlocking {
    val stack = TestStack.shared
    val info = stack.info
    fun pin(who: String) = Approval(info.obj(who)["login"] as String, Secret.Pin(info.obj(who)["pin"] as String))
    val dir = Files.createTempDirectory("tenda-bench")
    val request = EnrollmentRequest(info.str("server_url"), info.str("enrollment_code"), "Caixa bench Kotlin", null, 600_000u)
    val pos = enroll(stack.config(dir.resolve("bench.db").toString(), "bench"), Vault(), null, request, null)
    pos.installCertificate(hex(info.str("certificate_pfx_hex")), info.str("certificate_password"),
        Approval("dona", Secret.Password(info.obj("owner")["password"] as String)))
    pos.signIn(info.obj("seller")["login"] as String, Secret.Pin(info.obj("seller")["pin"] as String))
    pos.openRegister(10_000L, pin("manager"))
    stack.cut()
    pos.enterContingency("Queda do link de internet da loja", pin("manager"))

    val codes = info.list("products").take(5).map { it.str("code") }
    val checkoutMs = ArrayList<Double>()
    repeat(WARMUP + CHECKOUTS) { i ->
        for (code in codes) pos.scan(code, null)
        val total = pos.ticket().total
        val started = System.nanoTime()
        pos.checkout(listOf(PaymentRequest.Cash(total, total)))
        if (i >= WARMUP) checkoutMs.add((System.nanoTime() - started) / 1e6)
    }
    val scanUs = ArrayList<Double>()
    repeat(SCANS) { i ->
        val started = System.nanoTime()
        pos.scanAndView(codes[i % codes.size])
        scanUs.add((System.nanoTime() - started) / 1e3)
        if (i % 20 == 19) pos.clearTicket()
    }
    pos.shutdown()
    val counter = Counter()
    val count = 50_000UL
    val micros = statusEventBurst(counter, count)
    check(counter.last == count) { "the last state was lost: ${counter.last} != $count" }
    println("ffi_checkout_offline_p50_kotlin: ${"%.3f".format(p50(checkoutMs))} ms")
    println("ffi_scan_p50_kotlin: ${"%.1f".format(p50(scanUs))} us")
    println("ffi_status_events_per_s_kotlin: ${"%.0f".format(counter.received * 1e6 / micros.toDouble())} events/s")
    stack.stop()
}
