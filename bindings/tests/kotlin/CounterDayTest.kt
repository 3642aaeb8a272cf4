package tenda.test

import java.nio.file.Files
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.MethodOrderer
import org.junit.jupiter.api.Order
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.TestMethodOrder
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNotNull
import kotlin.test.assertTrue
import tenda.domain.CardKind
import tenda.domain.FiscalStatus
import tenda.ffi.Pos
import tenda.ffi.SimulatedPeripheral
import tenda.ffi.enroll
import tenda.pos.EnrollmentRequest
import tenda.pos.LimitKind
import tenda.pos.LinkState
import tenda.pos.PaymentRequest
import tenda.pos.SaleOutcome
import tenda.pos.SefazMode
import tenda.pos.Secret
import tenda.pos.TendaException

/** A day at the counter from Kotlin on the JVM, against a real tenda-server and the SEFAZ
 *  simulator: enroll with a one-time code, first load with progress, PIN sign-in, cash and card
 *  (the reader reached through the host's link), the link lost, contingency by the manager,
 *  offline sales, the link back: every note authorized, every sale on the server exactly once. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation::class)
class CounterDayTest {
    private val stack = TestStack.shared
    private val progress = StatusRecorder()
    private val printer = SimulatedPeripheral.printer()
    private val reader = SimulatedPeripheral.cardReader()
    private lateinit var pos: Pos
    /** Every sale made, for the end-of-day checks. */
    private val sales = mutableListOf<SaleOutcome>()

    private suspend fun sell(payment: PaymentRequest): SaleOutcome = pos.checkout(listOf(payment)).also { sales.add(it) }

    private fun codes(): List<String> = stack.info.list("products").map { it.str("code") }
    private fun price(code: String): Long = stack.info.list("products").first { it.str("code") == code }.long("price_cents")

    @BeforeAll
    fun enrollRegister() = runBlocking {
        val dir = Files.createTempDirectory("tenda-kotlin")
        val request = EnrollmentRequest(
            serverUrl = stack.info.str("server_url"),
            code = stack.info.str("enrollment_code"),
            deviceName = "Caixa Kotlin",
            expectedFingerprint = null,
            firstLoadTimeoutMs = 60_000u,
        )
        pos = enroll(stack.config(dir.resolve("caixa.db").toString(), "caixa-kotlin"), MemoryVault(), null, request, progress)
        pos.installCertificate(hex(stack.info.str("certificate_pfx_hex")), stack.info.str("certificate_password"), stack.approval("owner"))
        pos.attachPrinter(SimulatedLink(printer))
        pos.pairCardReader(SimulatedLink(reader))
    }

    @AfterAll
    fun shutDown() = runBlocking { pos.shutdown() }

    @Test
    @Order(1)
    fun `enrollment loads the store with progress`() {
        val pulls = progress.seen.mapNotNull { it.pull }.filter { (it.total ?: 0u) > 0u }
        assertTrue(pulls.isNotEmpty(), "the first load reported progress")
        assertTrue(pulls.last().total!! >= stack.info.long("catalog_size").toULong())
        assertTrue(pos.status().initialLoadComplete)
        assertNotNull(pos.enrollment())
    }

    @Test
    @Order(2)
    fun `online cash and card sales are authorized and printed`() = runBlocking {
        val seller = stack.info.obj("seller")
        pos.signIn(seller["login"] as String, Secret.Pin(seller["pin"] as String))
        pos.openRegister(15_000L, stack.approval("manager"))
        val (a, b) = codes()
        pos.scan(a, null)
        val ticket = pos.scanAndView(b)
        assertEquals(price(a) + price(b), ticket.total, "integer centavos, summed exactly")
        val cash = sell(PaymentRequest.Cash(ticket.total, ticket.total + 1_000))
        assertEquals(1_000L, cash.change)
        assertEquals(FiscalStatus.AUTHORIZED, cash.note!!.status)
        assertTrue(cash.printed, cash.printError)

        val total = pos.scanAndView(a).total
        val card = sell(PaymentRequest.Card(total, CardKind.DEBIT))
        assertEquals(FiscalStatus.AUTHORIZED, card.note!!.status)
        assertEquals(1u, reader.charges(), "the charge went through the host's link to the reader")
        assertEquals(2u, printer.receiptsPrinted())
    }

    @Test
    @Order(3)
    fun `offline in contingency, then every note authorized and every sale on the server once`() = runBlocking {
        val watcher = StatusRecorder()
        val subscription = pos.subscribe(watcher)
        val (a, b, c) = codes()
        stack.cut()
        pos.syncNow()
        watcher.waitFor { it.link == LinkState.OFFLINE }

        var total = pos.scanAndView(c).total
        val pix = assertFailsWith<TendaException.Offline> { pos.checkout(listOf(PaymentRequest.Pix(total, null))) }
        assertEquals("offline", pix.code())

        try {
            sell(PaymentRequest.Cash(total, total))
        } catch (e: TendaException.ContingencyRequired) {
            assertEquals("contingency_required", e.code())
        }
        pos.enterContingency("Queda do link de internet da loja", stack.approval("manager"))
        watcher.waitFor { it.sefaz == SefazMode.CONTINGENCY }
        if (pos.ticket().lines.isNotEmpty()) {
            total = pos.ticket().total
            sell(PaymentRequest.Cash(total, total))
        }
        for (code in listOf(a, b)) {
            total = pos.scanAndView(code).total
            val sale = sell(PaymentRequest.Cash(total, total))
            assertTrue(sale.note!!.contingency, "issued in contingency (tpEmis 9)")
        }
        total = pos.scanAndView(a).total
        val risk = pos.cardOfflineRisk(total)
        assertTrue(risk.offline && risk.allowed)
        pos.acceptCardOfflineRisk()
        sell(PaymentRequest.Card(total, CardKind.CREDIT))
        assertEquals(1, pos.pendingCardPayments().size)

        // Beyond the owner's per-payment limit a card is refused offline, with the limit's value.
        pos.scan(a, 20_000L)
        val big = pos.ticket().total
        pos.acceptCardOfflineRisk()
        val limit = assertFailsWith<TendaException.LimitExceeded> { pos.checkout(listOf(PaymentRequest.Card(big, CardKind.CREDIT))) }
        assertEquals("limit_exceeded", limit.code())
        assertEquals(LimitKind.CARD_OFFLINE_PER_PAYMENT, limit.limit)
        pos.voidLine(0u, stack.approval("manager"))

        stack.restore()
        pos.syncAndWait(30_000u)
        pos.forwardPendingCardPayments()
        val summary = pos.transmitBacklog(true)
        assertEquals(0u, summary.remaining, "$summary")
        pos.syncAndWait(30_000u)

        assertTrue(pos.offlineSales().isEmpty(), "nothing waits for the server or SEFAZ any more")
        for (sale in sales) {
            val detail = pos.saleDetail(sale.saleId)
            assertTrue(detail.row.synced, "$sale")
            assertEquals(FiscalStatus.AUTHORIZED, detail.row.note!!.status, "${detail.row}")
            val atSefaz = stack.noteAtSefaz(sale.note!!.accessKey) as Map<*, *>?
            assertNotNull(atSefaz, "SEFAZ holds the note")
            assertTrue(atSefaz["status"] in listOf(100L, 150L), "SEFAZ authorized it")
        }
        val deviceId = pos.enrollment()!!.deviceId
        val mine = stack.sales().filter { it.str("device_id") == deviceId }.map { it.str("local_number").toLong() }.sorted()
        assertEquals(sales.map { it.localNumber.toLong() }.sorted(), mine, "every sale on the server exactly once")
        assertTrue(sales.size >= 6)
        assertTrue(pos.verifyAudit().intact)
        subscription.close()
    }
}
