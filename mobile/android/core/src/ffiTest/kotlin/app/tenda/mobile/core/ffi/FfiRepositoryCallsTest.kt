package app.tenda.mobile.core.ffi

import tenda.test.get
import app.tenda.mobile.core.api.Approval
import app.tenda.mobile.core.api.Discount
import app.tenda.mobile.core.api.Money
import app.tenda.mobile.core.api.PaymentRequest
import app.tenda.mobile.core.api.PosFailure
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertTrue
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Test

/**
 * The repository calls the counter, payment and receipt screens make beyond the shift test, on
 * the real core: the register's state, a quantity, a line discount the manager approves, a
 * customer found and put on the ticket, an account sale and its receipt preview.
 */
class FfiRepositoryCallsTest {
    @Test
    fun `ticket edits, customers and the receipt preview reach the core`() {
        TestStack().use { stack ->
            ShiftHarness(stack).use { h ->
                val repository = h.enroll()
                val manager = Approval(h.login("manager"), h.pin("manager"))
                runBlocking {
                    repository.signIn(h.login("seller"), h.pin("seller")).getOrThrow()
                    assertFalse(repository.registerIsOpen().getOrThrow())
                    repository.openRegister(Money(5_000), manager).getOrThrow()
                    assertTrue(repository.registerIsOpen().getOrThrow(), "the core's register session")

                    val price = repository.scan(h.productCode(0)).getOrThrow().lines.single().unitPrice
                    val three = repository.setQuantity(0, 3_000).getOrThrow()
                    assertEquals(3_000L, three.lines.single().quantityThousandths)
                    assertEquals(Money(price.centavos * 3), three.gross)
                    // 10% is over the seller's 5%: refused alone, applied with the manager's approval.
                    val refused = repository.setLineDiscount(0, Discount.Percent(1_000), null).exceptionOrNull()
                    assertEquals("forbidden", (refused as PosFailure).code)
                    val discounted = repository.setLineDiscount(0, Discount.Percent(1_000), manager).getOrThrow()
                    assertTrue(discounted.discount.isPositive)
                    assertEquals(discounted.gross - discounted.discount, discounted.total)

                    val customer = stack.description["customer"]
                    val name = customer["name"] as String
                    val found = repository.searchCustomers(name.split(" ").first(), 10).getOrThrow()
                    val chosen = found.single { it.id == customer["id"] }
                    assertEquals(Money(customer["overdraft_limit_cents"] as Long), chosen.creditLimit)
                    val ticket = repository.setCustomer(chosen.id).getOrThrow()
                    assertEquals(chosen, ticket.customer, "the ticket shows the customer by name")

                    val sale = repository.checkout(listOf(PaymentRequest.CustomerAccount(ticket.total))).getOrThrow()
                    assertEquals(ticket.total, sale.total)
                    val preview = repository.receiptPreview(sale.saleId).getOrThrow()
                    val signature = byteArrayOf(0x89.toByte(), 'P'.code.toByte(), 'N'.code.toByte(), 'G'.code.toByte())
                    assertContentEquals(signature, preview.png.copyOf(4))
                    // A 58 mm (384 dots) or 80 mm (576 dots) roll's printable width, plus the preview's margins.
                    assertTrue(preview.widthDots == 384 + 32 || preview.widthDots == 576 + 32, "width ${preview.widthDots}")
                    repository.shutdown()
                }
            }
        }
    }
}
