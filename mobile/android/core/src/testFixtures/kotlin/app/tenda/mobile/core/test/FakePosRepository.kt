package app.tenda.mobile.core.test

import app.tenda.mobile.core.api.Approval
import app.tenda.mobile.core.api.CardOfflineRisk
import app.tenda.mobile.core.api.Clock
import app.tenda.mobile.core.api.Customer
import app.tenda.mobile.core.api.Discount
import app.tenda.mobile.core.api.Features
import app.tenda.mobile.core.api.LinkState
import app.tenda.mobile.core.api.Money
import app.tenda.mobile.core.api.Note
import app.tenda.mobile.core.api.NoteStatus
import app.tenda.mobile.core.api.OfflineLimitation
import app.tenda.mobile.core.api.OfflineSale
import app.tenda.mobile.core.api.Operator
import app.tenda.mobile.core.api.PaymentRequest
import app.tenda.mobile.core.api.PeripheralState
import app.tenda.mobile.core.api.PosFailure
import app.tenda.mobile.core.api.PosRepository
import app.tenda.mobile.core.api.PosStatus
import app.tenda.mobile.core.api.PrintOutcome
import app.tenda.mobile.core.api.ProductView
import app.tenda.mobile.core.api.ReceiptPreview
import app.tenda.mobile.core.api.Role
import app.tenda.mobile.core.api.SaleOutcome
import app.tenda.mobile.core.api.SefazMode
import app.tenda.mobile.core.api.SyncNowOutcome
import app.tenda.mobile.core.api.Ticket
import app.tenda.mobile.core.api.TicketLine
import java.time.Duration
import java.time.Instant
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update

/**
 * An in-memory point of sale for presenter and UI tests, answering with the same failures and
 * codes as the core for the rules the screens react to: PIN lockout, a seller's discount limit,
 * voids that need a manager, PIX refused offline, store-and-forward card limits, contingency.
 * The real rules live in Rust; the FFI tests run the same screens against them.
 */
class FakePosRepository(private val clock: Clock) : PosRepository {
    class User(val login: String, val pin: String, val operator: Operator)

    val users = listOf(
        User("ana", "1234", Operator("u-ana", "Ana", Role.SELLER)),
        User("bruno", "9876", Operator("u-bruno", "Bruno", Role.MANAGER)),
    )

    val catalog = listOf(
        ProductView("p-cafe", "CAFE500", "7891000100103", "Café 500 g", "UN", false, Money(1890), 40_000),
        ProductView("p-pao", "PAO", "7891000200200", "Pão de forma", "UN", false, Money(799), 12_000),
        ProductView("p-queijo", "QUEIJO", null, "Queijo minas", "KG", true, Money(4590), 8_500),
        ProductView("p-leite", "LEITE1L", "7891000300307", "Leite integral 1 L", "UN", false, Money(549), 60_000),
    )

    val customers = mutableListOf(Customer("c-dona-maria", "Dona Maria", "12345678909", Money(-5_000), Money(20_000)))

    /** What the receipt printer answers: null prints, a reason fails (paper out, say). */
    var printerProblem: String? = null

    private val maxFailures = 3
    private val lockout = Duration.ofMinutes(5)
    private val sellerDiscountLimitBasisPoints = 1_000
    private val cardPerPaymentLimit = Money(20_000)
    private val cardTotalPendingLimit = Money(50_000)
    private val offlineReasons = listOf(
        OfflineLimitation(Features.PIX, "PIX needs the bank to confirm the transfer while the customer waits"),
        OfflineLimitation(Features.CUSTOMER_BALANCE, "customer account balances are the last known ones"),
    )

    private val failures = mutableMapOf<String, Int>()
    private val lockedUntil = mutableMapOf<String, Instant>()
    private var operator: Operator? = null
    private var lines = listOf<Line>()
    private var saleDiscount: Discount? = null
    private var customer: Customer? = null
    private var riskAccepted = false
    private var registerOpen = false
    private val sales = mutableListOf<FakeSale>()
    private val nextFailures = mutableMapOf<String, PosFailure>()

    private data class Line(val product: ProductView, val quantityThousandths: Long, val discount: Discount?)

    private data class FakeSale(
        val outcome: SaleOutcome,
        val createdAt: Instant,
        var synced: Boolean,
        var note: Note,
        val storedCard: Money,
    )

    private val mutableStatus = MutableStateFlow(
        PosStatus.STARTING.copy(link = LinkState.ONLINE, printer = PeripheralState.Ready, cardReader = PeripheralState.Ready),
    )
    override val status: StateFlow<PosStatus> = mutableStatus.asStateFlow()

    /** Makes the next call named [call] (the method's name) fail with [failure]. */
    fun failNext(call: String, failure: PosFailure) {
        nextFailures[call] = failure
    }

    /** The link drops: SEFAZ is unreachable too, so the machine asks for a manager. */
    fun linkDrops() {
        mutableStatus.update {
            it.copy(
                link = LinkState.OFFLINE,
                sefaz = if (it.sefaz == SefazMode.NORMAL) SefazMode.CONTINGENCY_REQUIRED else it.sefaz,
                unavailable = offlineReasons,
            )
        }
    }

    /** The link returns: the outbox drains to the server and SEFAZ authorizes the backlog. */
    fun linkReturns() {
        for (sale in sales) {
            sale.synced = true
            if (sale.note.status == NoteStatus.CONTINGENCY) sale.note = sale.note.copy(status = NoteStatus.AUTHORIZED)
        }
        mutableStatus.update { it.copy(link = LinkState.ONLINE, sefaz = SefazMode.NORMAL, unavailable = emptyList()) }
        publishCounts()
    }

    /** Every sale the fake has recorded, as the server would list them once synced. */
    fun recordedSales(): List<SaleOutcome> = sales.map { it.outcome }

    private inline fun <T> call(name: String, body: () -> T): Result<T> {
        nextFailures.remove(name)?.let { return Result.failure(it) }
        return try {
            Result.success(body())
        } catch (failure: PosFailure) {
            Result.failure(failure)
        }
    }

    private fun checkCredentials(login: String, pin: String): Operator {
        val now = clock.now()
        lockedUntil[login]?.let { until -> if (now < until) throw PosFailure.LockedOut(until) }
        val user = users.firstOrNull { it.login == login } ?: throw PosFailure.WrongCredentials(maxFailures)
        if (user.pin != pin) {
            val count = (failures[login] ?: 0) + 1
            if (count >= maxFailures) {
                failures.remove(login)
                val until = now + lockout
                lockedUntil[login] = until
                throw PosFailure.LockedOut(until)
            }
            failures[login] = count
            throw PosFailure.WrongCredentials(maxFailures - count)
        }
        failures.remove(login)
        lockedUntil.remove(login)
        return user.operator
    }

    private fun seller(): Operator = operator ?: throw PosFailure.InvalidState("sell", "nobody is signed in")

    /** The signed-in operator may, or a manager's approval may; otherwise `forbidden`. */
    private fun authorize(permission: String, allowedForSeller: Boolean, approval: Approval?) {
        val performer = seller()
        if (performer.role != Role.SELLER || allowedForSeller) return
        if (approval == null) throw PosFailure.Forbidden(permission)
        val approver = checkCredentials(approval.login, approval.secret)
        if (approver.role == Role.SELLER) throw PosFailure.Forbidden(permission)
    }

    override suspend fun signIn(login: String, pin: String) = call("signIn") {
        checkCredentials(login, pin).also {
            operator = it
            clear()
        }
    }

    override suspend fun signOut() = call("signOut") {
        operator = null
        clear()
    }

    override suspend fun registerIsOpen() = call("registerIsOpen") { registerOpen }

    override suspend fun openRegister(float: Money, approval: Approval?) = call("openRegister") {
        seller()
        if (float.centavos < 0) throw PosFailure.InvalidInput("float", "must not be negative")
        if (registerOpen) throw PosFailure.InvalidState("open register", "the register is already open")
        authorize("open_register", allowedForSeller = false, approval = approval)
        registerOpen = true
    }

    private fun clear() {
        lines = emptyList()
        saleDiscount = null
        customer = null
        riskAccepted = false
    }

    override suspend fun ticket() = call("ticket") { view() }

    override suspend fun scan(code: String) = call("scan") {
        seller()
        val product = catalog.firstOrNull { it.gtin == code || it.sku == code } ?: throw PosFailure.NotFound("product $code")
        add(product, 1_000)
    }

    override suspend fun searchProducts(text: String, limit: Int) = call("searchProducts") {
        catalog.filter { it.name.contains(text, ignoreCase = true) || it.sku.contains(text, ignoreCase = true) }.take(limit)
    }

    override suspend fun addProduct(product: ProductView, quantityThousandths: Long) = call("addProduct") {
        seller()
        add(catalog.firstOrNull { it.id == product.id } ?: throw PosFailure.NotFound("product ${product.sku}"), quantityThousandths)
    }

    private fun add(product: ProductView, quantityThousandths: Long): Ticket {
        if (quantityThousandths <= 0) throw PosFailure.InvalidInput("quantity", "must be positive")
        lines = lines + Line(product, quantityThousandths, null)
        riskAccepted = false
        return view()
    }

    override suspend fun setQuantity(line: Int, quantityThousandths: Long) = call("setQuantity") {
        if (quantityThousandths <= 0) throw PosFailure.InvalidInput("quantity", "must be positive")
        lines = lines.mapIndexed { i, l -> if (i == checkLine(line)) l.copy(quantityThousandths = quantityThousandths) else l }
        view()
    }

    private fun checkLine(line: Int): Int = if (line in lines.indices) line else throw PosFailure.NotFound("line $line")

    override suspend fun voidLine(line: Int, approval: Approval?) = call("voidLine") {
        checkLine(line)
        authorize("void_line", allowedForSeller = false, approval = approval)
        lines = lines.filterIndexed { i, _ -> i != line }
        view()
    }

    override suspend fun setLineDiscount(line: Int, discount: Discount?, approval: Approval?) = call("setLineDiscount") {
        checkLine(line)
        val gross = gross(lines[line])
        authorize("discount_above_limit", discountWithinLimit(discount, gross), approval)
        lines = lines.mapIndexed { i, l -> if (i == line) l.copy(discount = discount) else l }
        view()
    }

    override suspend fun setSaleDiscount(discount: Discount?, approval: Approval?) = call("setSaleDiscount") {
        val gross = lines.fold(Money.ZERO) { sum, l -> sum + gross(l) }
        authorize("discount_above_limit", discountWithinLimit(discount, gross), approval)
        saleDiscount = discount
        view()
    }

    private fun discountWithinLimit(discount: Discount?, base: Money): Boolean =
        discount == null || off(discount, base).centavos * 10_000 <= base.centavos * sellerDiscountLimitBasisPoints

    override suspend fun searchCustomers(text: String, limit: Int) = call("searchCustomers") {
        customers.filter { it.name.contains(text, ignoreCase = true) || it.taxId == text }.take(limit)
    }

    override suspend fun setCustomer(customerId: String?) = call("setCustomer") {
        customer = customerId?.let { id -> customers.firstOrNull { it.id == id } ?: throw PosFailure.NotFound("customer $id") }
        view()
    }

    override suspend fun clearTicket() = call("clearTicket") {
        clear()
        view()
    }

    override suspend fun cardOfflineRisk(amount: Money) = call("cardOfflineRisk") {
        val pending = sales.filter { !it.synced }.fold(Money.ZERO) { sum, s -> sum + s.storedCard }
        val refusal = when {
            amount > cardPerPaymentLimit -> "offline_card_per_payment: ${amount.centavos} > ${cardPerPaymentLimit.centavos}"
            pending + amount > cardTotalPendingLimit -> "offline_card_total_pending: ${(pending + amount).centavos} > ${cardTotalPendingLimit.centavos}"
            else -> null
        }
        CardOfflineRisk(
            offline = status.value.link == LinkState.OFFLINE,
            notice = "Without a link the card is stored and charged later; a refusal then is the store's loss.",
            allowed = refusal == null,
            refusal = refusal,
            perPaymentLimit = cardPerPaymentLimit,
            pendingTotal = pending,
            totalPendingLimit = cardTotalPendingLimit,
            pendingCount = sales.count { !it.synced && it.storedCard.isPositive },
        )
    }

    override suspend fun acceptCardOfflineRisk() = call("acceptCardOfflineRisk") {
        seller()
        riskAccepted = true
    }

    override suspend fun checkout(payments: List<PaymentRequest>) = call("checkout") {
        seller()
        val ticket = view()
        if (ticket.isEmpty) throw PosFailure.InvalidState("checkout", "the ticket is empty")
        if (!registerOpen) throw PosFailure.InvalidState("checkout", "open the register first")
        val status = status.value
        val offline = status.link == LinkState.OFFLINE
        if (status.sefaz == SefazMode.CONTINGENCY_REQUIRED) throw PosFailure.ContingencyRequired
        val paid = payments.fold(Money.ZERO) { sum, p -> sum + p.amount }
        if (paid < ticket.total) throw PosFailure.InvalidInput("payments", "they cover ${paid.centavos} of ${ticket.total.centavos}")
        var storedCard = Money.ZERO
        var change = Money.ZERO
        for (payment in payments) {
            when (payment) {
                is PaymentRequest.Pix -> if (offline) throw PosFailure.Offline(Features.PIX, offlineReasons.first { it.feature == Features.PIX }.reason)
                is PaymentRequest.CustomerAccount -> {
                    val c = customer ?: throw PosFailure.InvalidState("charge the account", "the ticket has no customer")
                    if (c.balance - payment.amount < Money(-c.creditLimit.centavos)) {
                        throw PosFailure.LimitExceeded("customer_credit: ${c.name}")
                    }
                }
                is PaymentRequest.Card -> if (offline) {
                    if (!riskAccepted) throw PosFailure.InvalidState("card offline", "the seller has not accepted the offline risk")
                    storedCard += payment.amount
                }
                is PaymentRequest.Cash -> change += payment.tendered - payment.amount
            }
        }
        val now = clock.now()
        val number = sales.size + 1
        val contingency = status.sefaz == SefazMode.CONTINGENCY
        val note = Note(
            number = number,
            series = 1,
            accessKey = "3526121234567800019965001" + number.toString().padStart(9, '0') + "91234567" + (number % 10),
            status = if (contingency) NoteStatus.CONTINGENCY else NoteStatus.AUTHORIZED,
            contingency = contingency,
            deadline = if (contingency) now + Duration.ofHours(24) else null,
            rejection = null,
        )
        val outcome = SaleOutcome(
            saleId = "sale-$number",
            localNumber = number.toLong(),
            total = ticket.total,
            change = change,
            note = note,
            printed = printerProblem == null,
            printError = printerProblem,
        )
        payments.filterIsInstance<PaymentRequest.CustomerAccount>().forEach { p ->
            val c = customer!!
            customers.replaceAll { if (it.id == c.id) it.copy(balance = it.balance - p.amount) else it }
        }
        sales += FakeSale(outcome, now, synced = !offline, note = note, storedCard = storedCard)
        clear()
        publishCounts()
        outcome
    }

    private fun publishCounts() {
        mutableStatus.update {
            val waiting = sales.filter { s -> s.note.status == NoteStatus.CONTINGENCY }
            it.copy(
                pendingSync = sales.count { s -> !s.synced }.toLong(),
                pendingNotes = waiting.size,
                nearestDeadline = waiting.mapNotNull { s -> s.note.deadline }.minOrNull(),
            )
        }
    }

    override suspend fun receiptPreview(saleId: String) = call("receiptPreview") {
        val sale = sales.firstOrNull { it.outcome.saleId == saleId } ?: throw PosFailure.NotFound("sale $saleId")
        ReceiptPreview("receipt of ${sale.outcome.saleId}: ${sale.outcome.total.centavos}".toByteArray(), widthDots = 384)
    }

    override suspend fun reprint(saleId: String) = call("reprint") {
        sales.firstOrNull { it.outcome.saleId == saleId } ?: throw PosFailure.NotFound("sale $saleId")
        PrintOutcome(printed = printerProblem == null, printError = printerProblem)
    }

    override suspend fun enterContingency(justification: String, approval: Approval?) = call("enterContingency") {
        if (justification.length !in 15..256) throw PosFailure.InvalidInput("justification", "between 15 and 256 characters")
        authorize("authorize_contingency", allowedForSeller = false, approval = approval)
        mutableStatus.update { it.copy(sefaz = SefazMode.CONTINGENCY) }
    }

    override suspend fun offlineSales() = call("offlineSales") {
        sales.filter { !it.synced || it.note.status == NoteStatus.CONTINGENCY }
            .sortedWith(compareBy({ it.note.deadline ?: Instant.MAX }, { it.createdAt }))
            .map { OfflineSale(it.outcome.saleId, it.outcome.localNumber, it.createdAt, it.outcome.total, it.synced, false, it.note) }
    }

    override suspend fun syncNow() = call("syncNow") {
        if (status.value.link == LinkState.OFFLINE) {
            SyncNowOutcome(syncRequested = false, syncUnavailable = "offline")
        } else {
            SyncNowOutcome(syncRequested = true, syncUnavailable = null)
        }
    }

    private fun gross(line: Line): Money = Money(Math.multiplyExact(line.product.price.centavos, line.quantityThousandths) / 1_000)

    private fun off(discount: Discount, base: Money): Money = when (discount) {
        is Discount.Amount -> discount.amount
        is Discount.Percent -> Money(base.centavos * discount.basisPoints / 10_000)
    }

    private fun view(): Ticket {
        val ticketLines = lines.mapIndexed { i, l ->
            val gross = gross(l)
            val discount = l.discount?.let { off(it, gross) } ?: Money.ZERO
            TicketLine(i, l.product.name, l.quantityThousandths, l.product.unit, l.product.price, gross, discount, gross - discount)
        }
        val gross = ticketLines.fold(Money.ZERO) { sum, l -> sum + l.gross }
        val afterLines = ticketLines.fold(Money.ZERO) { sum, l -> sum + l.total }
        val discount = (gross - afterLines) + (saleDiscount?.let { off(it, afterLines) } ?: Money.ZERO)
        val total = gross - discount
        val basisPoints = if (gross.isPositive) (discount.centavos * 10_000 / gross.centavos).toInt() else 0
        return Ticket(ticketLines, gross, discount, total, basisPoints, null, customer)
    }
}
