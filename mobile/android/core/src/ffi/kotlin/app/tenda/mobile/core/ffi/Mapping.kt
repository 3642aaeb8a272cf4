package app.tenda.mobile.core.ffi

import app.tenda.mobile.core.api.Approval
import app.tenda.mobile.core.api.CardOfflineRisk
import app.tenda.mobile.core.api.Customer
import app.tenda.mobile.core.api.DeadlineAlarm
import app.tenda.mobile.core.api.Discount
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
import app.tenda.mobile.core.api.PosStatus
import app.tenda.mobile.core.api.ProductView
import app.tenda.mobile.core.api.Role
import app.tenda.mobile.core.api.SaleOutcome
import app.tenda.mobile.core.api.SefazMode
import app.tenda.mobile.core.api.Ticket
import app.tenda.mobile.core.api.TicketLine
import java.time.Instant
import tenda.pos.TendaException

// Generated records → the app's own models, one function per type. Enums map by constant name
// (the generated enums and the app's share them), so a new core variant fails loudly here.

internal fun millis(ms: Long): Instant = Instant.ofEpochMilli(ms)

internal fun TendaException.toFailure(): PosFailure = when (this) {
    is TendaException.Offline -> PosFailure.Offline(what, why)
    is TendaException.Forbidden -> PosFailure.Forbidden(permission)
    is TendaException.WrongCredentials -> PosFailure.WrongCredentials(remainingAttempts.toInt())
    is TendaException.LockedOut -> PosFailure.LockedOut(millis(until))
    is TendaException.InvalidInput -> PosFailure.InvalidInput(field, reason)
    is TendaException.Rejected -> PosFailure.Rejected(code, reason)
    // The limit's stable code (the enum constant in snake case) and the core's detail.
    is TendaException.LimitExceeded -> PosFailure.LimitExceeded("${limit.name.lowercase()}: $detail")
    is TendaException.ContingencyRequired -> PosFailure.ContingencyRequired
    is TendaException.NotFound -> PosFailure.NotFound(what)
    is TendaException.InvalidState -> PosFailure.InvalidState(action, reason)
    is TendaException.InsufficientStock -> PosFailure.InsufficientStock(product)
    is TendaException.Peripheral -> PosFailure.Peripheral(device, reason)
    is TendaException.Fiscal -> PosFailure.Fiscal(detail)
    is TendaException.Keystore -> PosFailure.Keystore(detail)
    is TendaException.Storage -> PosFailure.Storage(detail)
    is TendaException.ShutDown -> PosFailure.ShutDown
    is TendaException.Internal -> PosFailure.Internal(detail)
    // A host callback (our key vault, listener, Bluetooth link) failed with something untyped.
    is TendaException.Host -> PosFailure.Host(detail)
}

internal fun tenda.pos.Operator.toApi() = Operator(userId, name, Role.valueOf(role.name))

internal fun tenda.pos.PosStatus.toApi() = PosStatus(
    link = LinkState.valueOf(link.name),
    sefaz = SefazMode.valueOf(sefaz.name),
    pendingSync = pendingSync.toLong(),
    pendingNotes = pendingNotes.toInt(),
    nearestDeadline = nearestDeadline?.let(::millis),
    deadlineAlarm = deadlineAlarm?.let { DeadlineAlarm.valueOf(it.name) },
    notesNeedingCorrection = notesNeedingCorrection.toInt(),
    printer = printer.toApi(),
    cardReader = cardReader.toApi(),
    lastSync = lastSync?.let(::millis),
    unavailable = unavailable.map { OfflineLimitation(it.feature, it.reason) },
)

internal fun tenda.pos.PeripheralState.toApi(): PeripheralState = when (this) {
    is tenda.pos.PeripheralState.NotConfigured -> PeripheralState.NotConfigured
    is tenda.pos.PeripheralState.Ready -> PeripheralState.Ready
    is tenda.pos.PeripheralState.NeedsAttention -> PeripheralState.NeedsAttention(reason)
    is tenda.pos.PeripheralState.Disconnected -> PeripheralState.Disconnected
}

internal fun tenda.pos.ProductView.toApi() =
    ProductView(id, sku, gtin, name, unit, weighed, Money(price), stockThousandths)

internal fun tenda.pos.TicketView.toApi(customers: Map<String, Customer>) = Ticket(
    lines = lines.map {
        TicketLine(it.index.toInt(), it.name, it.quantityThousandths, it.unit, Money(it.unitPrice), Money(it.gross), Money(it.discount), Money(it.total))
    },
    gross = Money(gross),
    discount = Money(discount),
    total = Money(total),
    discountBasisPoints = discountBasisPoints.toInt(),
    consumerTaxId = consumerTaxId,
    customer = customerId?.let { customers[it] },
)

internal fun Approval.toFfi() = tenda.pos.Approval(login, tenda.domain.Secret.Pin(secret))

internal fun Discount.toFfi(): tenda.domain.Discount = when (this) {
    is Discount.Amount -> tenda.domain.Discount.Amount(amount.centavos)
    is Discount.Percent -> tenda.domain.Discount.Percent(basisPoints.toUInt())
}

internal fun PaymentRequest.toFfi(): tenda.pos.PaymentRequest = when (this) {
    is PaymentRequest.Cash -> tenda.pos.PaymentRequest.Cash(amount.centavos, tendered.centavos)
    is PaymentRequest.Card -> tenda.pos.PaymentRequest.Card(amount.centavos, tenda.domain.CardKind.valueOf(kind.name))
    is PaymentRequest.Pix -> tenda.pos.PaymentRequest.Pix(amount.centavos, txid)
    is PaymentRequest.CustomerAccount -> tenda.pos.PaymentRequest.CustomerAccount(amount.centavos)
}

internal fun tenda.pos.CardOfflineRisk.toApi() = CardOfflineRisk(
    offline, notice, allowed, refusal, Money(perPaymentLimit), Money(pendingTotal), Money(totalPendingLimit), pendingCount.toInt(),
)

internal fun tenda.pos.NoteSummary.toApi() = Note(
    number.toInt(), series.toInt(), accessKey, NoteStatus.valueOf(status.name), contingency, deadline?.let(::millis), rejection = null,
)

internal fun tenda.pos.SaleNoteState.toApi() = Note(
    number.toInt(), series.toInt(), accessKey, NoteStatus.valueOf(status.name), contingency, deadline?.let(::millis), rejection,
)

internal fun tenda.pos.SaleOutcome.toApi() =
    SaleOutcome(saleId, localNumber.toLong(), Money(total), Money(change), note?.toApi(), printed, printError)

internal fun tenda.pos.CustomerView.toApi() = Customer(id, name, taxId, Money(balance), Money(overdraftLimit))

/** A PNG's width in pixels (the IHDR chunk: big-endian, bytes 16–19), for the receipt preview's scale. */
internal fun pngWidth(png: ByteArray): Int {
    require(png.size >= 24) { "not a PNG: ${png.size} bytes" }
    return (16 until 20).fold(0) { width, i -> (width shl 8) or (png[i].toInt() and 0xff) }
}

internal fun tenda.pos.OfflineSaleRow.toApi() =
    OfflineSale(saleId, localNumber.toLong(), millis(createdAt), Money(total), synced, voided, note?.toApi())
