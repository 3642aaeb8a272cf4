package tenda.test

import java.nio.file.Files
import java.util.concurrent.atomic.AtomicInteger
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.MethodOrderer
import org.junit.jupiter.api.Order
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.TestMethodOrder
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertTrue
import tenda.ffi.Pos
import tenda.ffi.SimulatedPeripheral
import tenda.ffi.enroll
import tenda.ffi.open
import tenda.pos.EnrollmentRequest
import tenda.pos.PaymentRequest
import tenda.pos.PeripheralState
import tenda.pos.Secret
import tenda.pos.TendaException

/** Errors arrive as `TendaException`s with their stable code and fields; the status Flow stops
 *  its subscription when collection ends; failing host code (keystore, printer link) comes back
 *  typed and never costs a committed sale; nothing runs after shutdown. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation::class)
class ErrorsTest {
    private val stack = TestStack.shared
    private val vault = MemoryVault()
    private val path = Files.createTempDirectory("tenda-kotlin-2").resolve("caixa2.db").toString()
    private lateinit var pos: Pos
    private var committedSale: String? = null

    @BeforeAll
    fun enrollSecondRegister() = runBlocking {
        val request = EnrollmentRequest(stack.info.str("server_url"), stack.newCode(), "Caixa Kotlin 2", null, 60_000u)
        pos = enroll(stack.config(path, "caixa-2"), vault, null, request, null)
        pos.installCertificate(hex(stack.info.str("certificate_pfx_hex")), stack.info.str("certificate_password"), stack.approval("owner"))
    }

    @Test
    @Order(1)
    fun `wrong PIN counts down, then the account locks`() {
        val login = stack.info.obj("second_seller")["login"] as String
        val first = assertFailsWith<TendaException.WrongCredentials> { pos.signIn(login, Secret.Pin("0000")) }
        assertEquals("wrong_credentials", first.code())
        repeat(first.remainingAttempts.toInt() - 1) {
            assertFailsWith<TendaException.WrongCredentials> { pos.signIn(login, Secret.Pin("0000")) }
        }
        val locked = assertFailsWith<TendaException.LockedOut> { pos.signIn(login, Secret.Pin("0000")) }
        assertEquals("locked_out", locked.code())
        assertFailsWith<TendaException.LockedOut> {
            pos.signIn(login, Secret.Pin(stack.info.obj("second_seller")["pin"] as String))
        }
    }

    @Test
    @Order(2)
    fun `a seller needs a manager's approval to void a line`() {
        val seller = stack.info.obj("seller")
        pos.signIn(seller["login"] as String, Secret.Pin(seller["pin"] as String))
        pos.scan(stack.info.list("products")[0].str("code"), null)
        val refused = assertFailsWith<TendaException.Forbidden> { pos.voidLine(0u, null) }
        assertEquals("forbidden", refused.code())
        assertEquals(1, pos.ticket().lines.size, "a refused void changes nothing")
        pos.voidLine(0u, stack.approval("manager"))
        assertTrue(pos.ticket().lines.isEmpty())
    }

    @Test
    @Order(3)
    fun `the status Flow delivers until collection stops`() = runBlocking {
        val delivered = AtomicInteger()
        pos.attachPrinter(SimulatedLink(SimulatedPeripheral.printer()))
        val ready = pos.statusFlow(delivered).first { it.printer == PeripheralState.Ready }
        assertEquals(PeripheralState.Ready, ready.printer)
        val heard = delivered.get()
        // Collection stopped: awaitClose cancelled the subscription, so the change goes unheard.
        pos.pairCardReader(SimulatedLink(SimulatedPeripheral.cardReader()))
        assertEquals(PeripheralState.Ready, pos.status().cardReader)
        assertEquals(heard, delivered.get(), "no delivery after the flow's subscription is cancelled")
    }

    @Test
    @Order(4)
    fun `a printer failing mid-receipt keeps the sale`() = runBlocking {
        val printer = SimulatedPeripheral.printer()
        pos.attachPrinter(SimulatedLink(printer, failAfterBytes = 200))
        pos.openRegister(10_000L, stack.approval("manager"))
        val total = pos.scanAndView(stack.info.list("products")[1].str("code")).total
        val sale = pos.checkout(listOf(PaymentRequest.Cash(total, total)))
        assertFalse(sale.printed)
        assertNotNull(sale.printError, "the receipt failed, and says why")
        assertEquals(total, pos.saleDetail(sale.saleId).row.total, "the sale stands")
        pos.attachPrinter(SimulatedLink(printer))
        assertTrue(pos.reprint(sale.saleId).printed)
        committedSale = sale.saleId
    }

    @Test
    @Order(5)
    fun `after shutdown, and with a failing keystore, errors are typed and the sale stays`() = runBlocking {
        pos.shutdown()
        val after = assertFailsWith<TendaException.ShutDown> { pos.ticket() }
        assertEquals("shut_down", after.code())

        val broken = assertFailsWith<TendaException> { open(stack.config(path, "caixa-2"), BrokenVault(), null) }
        assertEquals("host", broken.code(), "the host's exception arrived typed")

        val reopened = open(stack.config(path, "caixa-2"), vault, null)
        assertEquals(committedSale, reopened.saleDetail(committedSale!!).row.saleId, "the committed sale is intact")
        assertTrue(reopened.verifyAudit().intact)
        reopened.shutdown()
    }
}
