package app.tenda.mobile.core.ffi

import tenda.test.get
import app.tenda.mobile.core.api.PosDispatchers
import app.tenda.mobile.core.presenter.Presenter
import java.io.File
import java.util.concurrent.Executors
import kotlin.time.Duration.Companion.seconds
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.asCoroutineDispatcher
import kotlinx.coroutines.cancel
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeout
import tenda.pos.Approval
import tenda.pos.EnrollmentRequest
import tenda.pos.SefazRoute
import tenda.domain.Secret

/**
 * Presenters on a single "main" thread, as on a phone, over the real core: events are handed to
 * them on that thread, and each expectation awaits the state it names (no sleeps).
 */
internal class ShiftHarness(val stack: TestStack, val dir: File = TestStack.tempDir()) : AutoCloseable {
    private val mainThread = Executors.newSingleThreadExecutor { r -> Thread(r, "main").apply { isDaemon = true } }
    val main = mainThread.asCoroutineDispatcher()
    val scope = CoroutineScope(SupervisorJob() + main)
    val dispatchers = PosDispatchers(io = Dispatchers.IO)
    val dbPath: String = File(dir, "tenda.db").path
    val sefazUrl = stack.description["sefaz_url"] as String
    val sefazCaHex = stack.description["sefaz_ca_der_hex"] as String
    val sefaz = TestStack.sefaz(sefazUrl, sefazCaHex)

    fun login(who: String) = stack.description[who]["login"] as String
    fun pin(who: String) = stack.description[who]["pin"] as String

    @Suppress("UNCHECKED_CAST")
    fun productCode(index: Int) = (stack.description["products"] as List<Any?>)[index]["code"] as String

    /** Enrolls a fresh device with the stack's one-time code and installs the store's certificate. */
    fun enroll(): FfiPosRepository = runBlocking(Dispatchers.IO) {
        val config = tenda.ffi.openConfig(dbPath, "device").copy(sefaz = SefazRoute.At(sefaz))
        val pos = tenda.ffi.enroll(
            config,
            FileKeyVault(dir),
            null,
            EnrollmentRequest(
                serverUrl = stack.description["server_url"] as String,
                code = stack.description["enrollment_code"] as String,
                deviceName = "Celular da Bia",
                expectedFingerprint = null,
                firstLoadTimeoutMs = 120_000uL,
            ),
            null,
        )
        val owner = stack.description["owner"]
        pos.installCertificate(
            TestStack.hex(stack.description["certificate_pfx_hex"] as String),
            stack.description["certificate_password"] as String,
            Approval(owner["login"] as String, Secret.Password(owner["password"] as String)),
        )
        pos.pairCardReader(SimulatedLink(tenda.ffi.SimulatedPeripheral.cardReader()))
        pos.attachPrinter(SimulatedLink(tenda.ffi.SimulatedPeripheral.printer()))
        FfiPosRepository.of(pos, dispatchers)
    }

    fun <S, E> send(presenter: Presenter<S, E>, vararg events: E) = runBlocking(main) { events.forEach(presenter::handle) }

    fun <S> await(presenter: Presenter<S, *>, what: String, predicate: (S) -> Boolean): S = runBlocking {
        try {
            withTimeout(90.seconds) { presenter.state.first(predicate) }
        } catch (e: kotlinx.coroutines.TimeoutCancellationException) {
            throw AssertionError("waited 90 s for $what; the state is ${presenter.state.value}", e)
        }
    }

    suspend fun <T> onMain(block: () -> T): T = withContext(main) { block() }

    override fun close() {
        scope.cancel()
        mainThread.shutdown()
    }
}

/**
 * The phone's Bluetooth link, played by the core's simulated printer or card reader: the same
 * foreign trait the Android BLE GATT link and the iOS CoreBluetooth link implement.
 */
internal class SimulatedLink(private val peripheral: tenda.ffi.SimulatedPeripheral) : tenda.pos.PeripheralLink {
    override fun connect(): UShort = peripheral.connect()

    // The simulators acknowledge each write and answer back, like a reader with a notify characteristic.
    override fun acknowledgesWrites() = true

    override fun canRead() = true

    override fun disconnect() = peripheral.disconnect()

    override fun write(chunk: ByteArray) = peripheral.write(chunk)

    override fun read(timeoutMs: ULong): ByteArray? = peripheral.read(timeoutMs)
}
