package tenda.test

import java.nio.file.Files
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import tenda.domain.Discount
import tenda.domain.FiscalStatus
import tenda.domain.Role
import tenda.domain.Secret
import tenda.ffi.Pos
import tenda.ffi.SimulatedPeripheral
import tenda.ffi.enroll
import tenda.pos.CountedAmount
import tenda.pos.EnrollmentRequest
import tenda.pos.LimitKind
import tenda.pos.PaymentKind
import tenda.pos.PaymentRequest
import tenda.pos.TendaException

/** A register's day through the rest of the facade, from Kotlin: cash in and out, a quantity
 *  and a line discount the manager approves, a customer account sale, the receipt as a PNG, an
 *  unsynced-sale cancellation refused for a sale with a note, the owner's sales report and the
 *  closing count — each checked against what the core must have computed. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RegisterDayTest {
    private val stack = TestStack.shared
    private lateinit var pos: Pos

    @BeforeAll
    fun enrollThirdRegister() = runBlocking {
        val path = Files.createTempDirectory("tenda-kotlin-3").resolve("caixa3.db").toString()
        val request = EnrollmentRequest(stack.info.str("server_url"), stack.newCode(), "Caixa Kotlin 3", null, 60_000u)
        pos = enroll(stack.config(path, "caixa-3"), MemoryVault(), null, request, null)
        pos.installCertificate(hex(stack.info.str("certificate_pfx_hex")), stack.info.str("certificate_password"), stack.approval("owner"))
        pos.attachPrinter(SimulatedLink(SimulatedPeripheral.printer()))
    }

    @AfterAll
    fun shutdown() = runBlocking { pos.shutdown() }

    @Test
    fun `a register's day with movements, discounts, an account sale, a report and the closing`() = runBlocking {
        val manager = stack.approval("manager")
        val seller = stack.info.obj("seller")
        assertNull(pos.signedIn())
        val operator = pos.signIn(seller["login"] as String, Secret.Pin(seller["pin"] as String))
        assertEquals(operator, pos.signedIn())
        assertEquals(Role.SELLER, operator.role)

        // The drawer: float, change in, a deposit out; a seller needs the manager for each.
        assertNull(pos.registerSession())
        pos.openRegister(20_000L, manager)
        assertFailsWith<TendaException.Forbidden> { pos.cashIn(1_000L, "Troco", null) }
        pos.cashIn(1_000L, "Troco do banco", manager)
        val tooMuch = assertFailsWith<TendaException.LimitExceeded> { pos.cashOut(99_000L, "Deposito", manager) }
        assertEquals(LimitKind.CASH_IN_DRAWER, tooMuch.limit)
        pos.cashOut(6_000L, "Deposito no banco", manager)
        val register = assertNotNull(pos.registerSession())
        assertEquals(Triple(20_000L, 1_000L, 6_000L), Triple(register.float, register.cashIn, register.cashOut))
        // The core does the drawer's arithmetic: 200,00 + 10,00 − 60,00, no sale yet.
        assertEquals(15_000L, register.expectedCash)
        assertEquals(PaymentKind.values().toList(), register.taken.map { it.kind })

        // Two units, then a tenth off the line: over the seller's 5% limit, so approved.
        val product = stack.info.list("products")[2]
        pos.scan(product.str("code"), null)
        pos.setQuantity(0u, 2_000L)
        val gross = 2 * product.long("price_cents")
        assertEquals(gross, pos.ticket().gross)
        val tenth = gross / 10
        val off = Discount.Amount(tenth)
        assertFailsWith<TendaException.Forbidden> { pos.setLineDiscount(0u, off, null) }
        assertEquals(0L, pos.ticket().discount, "a refused discount changes nothing")
        pos.setLineDiscount(0u, off, manager)
        val ticket = pos.ticket()
        assertEquals(tenth, ticket.discount)
        assertEquals(gross - tenth, ticket.total)
        val cashSale = pos.checkout(listOf(PaymentRequest.Cash(ticket.total, ticket.total + 500L)))
        assertEquals(500L, cashSale.change)
        assertEquals(FiscalStatus.AUTHORIZED, cashSale.note?.status)
        val png = pos.receiptPng(cashSale.saleId)
        assertContentEquals(byteArrayOf(0x89.toByte(), 'P'.code.toByte(), 'N'.code.toByte(), 'G'.code.toByte()), png.copyOf(4))

        // A sale on the customer's account.
        val customer = stack.info.obj("customer")
        val found = pos.searchCustomers((customer["name"] as String).split(" ")[0], 10u)
        assertTrue(found.any { it.id == customer["id"] })
        pos.scan(stack.info.list("products")[3].str("code"), null)
        val chosen = assertNotNull(pos.setCustomer(customer["id"] as String))
        assertEquals(customer["overdraft_limit_cents"], chosen.overdraftLimit)
        val accountTotal = pos.ticket().total
        val accountSale = pos.checkout(listOf(PaymentRequest.CustomerAccount(accountTotal)))
        assertEquals(accountTotal, accountSale.total)

        // A sale with an issued note cannot be deleted as unsynced: its note is cancelled instead.
        assertFailsWith<TendaException.InvalidState> {
            pos.cancelUnsyncedSale(accountSale.saleId, "Cliente desistiu", true, manager)
        }

        // The owner's report per day and method holds both sales as paid.
        val now = System.currentTimeMillis()
        val day = 24L * 3600 * 1000
        assertFailsWith<TendaException.Forbidden> { pos.salesReport(now - day, now + day, manager) }
        val rows = pos.salesReport(now - day, now + day, stack.approval("owner"))
        assertEquals(cashSale.total, rows.filter { it.kind == PaymentKind.CASH }.sumOf { it.amount })
        assertEquals(accountTotal, rows.filter { it.kind == PaymentKind.CUSTOMER_ACCOUNT }.sumOf { it.amount })

        // Closing with R$ 0,50 too much in the drawer: float + in − out + the cash sale, + 50.
        val expectedCash = 20_000L + 1_000L - 6_000L + cashSale.total
        val report = pos.closeRegister(listOf(CountedAmount(PaymentKind.CASH, expectedCash + 50L)), manager)
        val cash = report.lines.first { it.kind == PaymentKind.CASH }
        assertEquals(Triple(expectedCash, expectedCash + 50L, 50L), Triple(cash.expected, cash.counted, cash.difference))
        assertEquals(2u, report.salesCount)
        assertNull(pos.registerSession())
    }
}
