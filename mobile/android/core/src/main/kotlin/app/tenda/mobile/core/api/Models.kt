package app.tenda.mobile.core.api

import java.time.Instant

// The app's own picture of what the Rust core answers. The FFI implementation maps the generated
// records onto these, so screens and the fake never see a generated type (Element X keeps its
// `api` free of the Rust SDK the same way).

data class Operator(val userId: String, val name: String, val role: Role)

enum class Role { SELLER, MANAGER, OWNER }

enum class LinkState { ONLINE, OFFLINE }

/** The NFC-e contingency machine's state, as the status bar shows it. */
enum class SefazMode { NORMAL, CONTINGENCY_REQUIRED, CONTINGENCY, DRAINING }

/** How close the oldest pending contingency note is to its transmission deadline. */
enum class DeadlineAlarm { HALF, URGENT, OVERDUE }

sealed interface PeripheralState {
    data object NotConfigured : PeripheralState
    data object Ready : PeripheralState
    data class NeedsAttention(val reason: String) : PeripheralState
    data object Disconnected : PeripheralState
}

/** Something that needs the internet and the core's reason why, shown before the seller tries it. */
data class OfflineLimitation(val feature: String, val reason: String)

/** The one status the core publishes; every field is the core's decision, the app only shows it. */
data class PosStatus(
    val link: LinkState,
    val sefaz: SefazMode,
    /** Outbox entries (sales and other changes) the server has not acknowledged. */
    val pendingSync: Long,
    /** Contingency notes SEFAZ has not authorized yet. */
    val pendingNotes: Int,
    val nearestDeadline: Instant?,
    val deadlineAlarm: DeadlineAlarm?,
    val notesNeedingCorrection: Int,
    val printer: PeripheralState,
    val cardReader: PeripheralState,
    val lastSync: Instant?,
    val unavailable: List<OfflineLimitation>,
) {
    /** The core's reason a feature does not work now, or null when it does. */
    fun unavailableReason(feature: String): String? = unavailable.firstOrNull { it.feature == feature }?.reason

    companion object {
        val STARTING = PosStatus(
            link = LinkState.OFFLINE,
            sefaz = SefazMode.NORMAL,
            pendingSync = 0,
            pendingNotes = 0,
            nearestDeadline = null,
            deadlineAlarm = null,
            notesNeedingCorrection = 0,
            printer = PeripheralState.NotConfigured,
            cardReader = PeripheralState.NotConfigured,
            lastSync = null,
            unavailable = emptyList(),
        )
    }
}

/** Feature names of [OfflineLimitation.feature] the screens look up. */
object Features {
    const val PIX = "pix"
    const val CUSTOMER_BALANCE = "customer_balance"
}

data class ProductView(
    val id: String,
    val sku: String,
    val gtin: String?,
    val name: String,
    val unit: String,
    val weighed: Boolean,
    val price: Money,
    /** Known stock in thousandths of the unit. */
    val stockThousandths: Long,
)

data class TicketLine(
    val index: Int,
    val name: String,
    /** Thousandths of the unit: 1 000 is one piece, 1 250 is 1.25 kg. */
    val quantityThousandths: Long,
    val unit: String,
    val unitPrice: Money,
    val gross: Money,
    val discount: Money,
    val total: Money,
)

data class Ticket(
    val lines: List<TicketLine>,
    val gross: Money,
    val discount: Money,
    val total: Money,
    /** Share of the gross given as discount, in basis points. */
    val discountBasisPoints: Int,
    val consumerTaxId: String?,
    val customer: Customer?,
) {
    val isEmpty: Boolean get() = lines.isEmpty()

    companion object {
        val EMPTY = Ticket(emptyList(), Money.ZERO, Money.ZERO, Money.ZERO, 0, null, null)
    }
}

data class Customer(
    val id: String,
    val name: String,
    val taxId: String?,
    /** Last known balance of the customer's account (negative: the customer owes the store). */
    val balance: Money,
    val creditLimit: Money,
)

sealed interface Discount {
    data class Amount(val amount: Money) : Discount
    /** 10% is 1 000 basis points. */
    data class Percent(val basisPoints: Int) : Discount
}

/** A manager's credentials typed on the seller's device to approve one action. */
class Approval(val login: String, val secret: String) {
    override fun toString(): String = "Approval(login=$login, secret=•••)"
}

enum class CardKind { CREDIT, DEBIT }

/** One payment as the seller enters it. */
sealed interface PaymentRequest {
    val amount: Money

    /** [amount] settles that much of the total; [tendered] is what the customer handed over. */
    data class Cash(override val amount: Money, val tendered: Money) : PaymentRequest
    data class Card(override val amount: Money, val kind: CardKind) : PaymentRequest
    data class Pix(override val amount: Money, val txid: String?) : PaymentRequest
    data class CustomerAccount(override val amount: Money) : PaymentRequest
}

/** What the core says about taking a card now without a link (store-and-forward). */
data class CardOfflineRisk(
    val offline: Boolean,
    /** The notice the seller must accept, in the core's words. */
    val notice: String,
    val allowed: Boolean,
    /** Which limit refuses it and why, when not [allowed]. */
    val refusal: String?,
    val perPaymentLimit: Money,
    val pendingTotal: Money,
    val totalPendingLimit: Money,
    val pendingCount: Int,
)

enum class NoteStatus { PENDING, CONTINGENCY, AUTHORIZED, REJECTED, DENIED, CANCELLED }

data class Note(
    val number: Int,
    val series: Int,
    val accessKey: String,
    val status: NoteStatus,
    val contingency: Boolean,
    /** For contingency notes: the last instant to transmit it. */
    val deadline: Instant?,
    /** SEFAZ's code and reason when it rejected the note. */
    val rejection: String?,
)

data class SaleOutcome(
    val saleId: String,
    val localNumber: Long,
    val total: Money,
    val change: Money,
    val note: Note?,
    val printed: Boolean,
    /** Why the receipt did not print; the sale stands and can be reprinted. */
    val printError: String?,
)

/** One row of the offline sales list: a sale the server or SEFAZ has not taken yet. */
data class OfflineSale(
    val saleId: String,
    val localNumber: Long,
    val createdAt: Instant,
    val total: Money,
    val synced: Boolean,
    val voided: Boolean,
    val note: Note?,
)

/** The receipt as the printer would print it, rendered by the core at the printer's resolution. */
class ReceiptPreview(val png: ByteArray, val widthDots: Int) {
    override fun equals(other: Any?): Boolean =
        other is ReceiptPreview && widthDots == other.widthDots && png.contentEquals(other.png)

    override fun hashCode(): Int = 31 * png.contentHashCode() + widthDots

    override fun toString(): String = "ReceiptPreview(${png.size} bytes, $widthDots dots)"
}

data class PrintOutcome(val printed: Boolean, val printError: String?)

data class SyncNowOutcome(val syncRequested: Boolean, val syncUnavailable: String?)
