package app.tenda.mobile.core.api

import kotlinx.coroutines.flow.StateFlow

/**
 * Everything a seller's or manager's screen asks of the point of sale. Every call is a suspend
 * function that never throws: failures come back as `Result.failure(PosFailure)`. The FFI
 * implementation runs each call off the main thread; the fake answers from memory.
 */
interface PosRepository {
    /** The core's status, current value first; updated by the core's status listener. */
    val status: StateFlow<PosStatus>

    suspend fun signIn(login: String, pin: String): Result<Operator>
    suspend fun signOut(): Result<Unit>

    /** Whether this device's register session is open (it survives restarts). */
    suspend fun registerIsOpen(): Result<Boolean>
    /** Opens the register with the cash float in the drawer (a seller needs a manager's approval). */
    suspend fun openRegister(float: Money, approval: Approval?): Result<Unit>

    suspend fun ticket(): Result<Ticket>

    /** A barcode, SKU or scale label, from the camera or a Bluetooth scanner. */
    suspend fun scan(code: String): Result<Ticket>
    suspend fun searchProducts(text: String, limit: Int): Result<List<ProductView>>
    suspend fun addProduct(product: ProductView, quantityThousandths: Long): Result<Ticket>
    suspend fun setQuantity(line: Int, quantityThousandths: Long): Result<Ticket>
    suspend fun voidLine(line: Int, approval: Approval?): Result<Ticket>
    suspend fun setLineDiscount(line: Int, discount: Discount?, approval: Approval?): Result<Ticket>
    suspend fun setSaleDiscount(discount: Discount?, approval: Approval?): Result<Ticket>
    suspend fun searchCustomers(text: String, limit: Int): Result<List<Customer>>
    suspend fun setCustomer(customerId: String?): Result<Ticket>
    suspend fun clearTicket(): Result<Ticket>

    suspend fun cardOfflineRisk(amount: Money): Result<CardOfflineRisk>
    suspend fun acceptCardOfflineRisk(): Result<Unit>
    suspend fun checkout(payments: List<PaymentRequest>): Result<SaleOutcome>

    suspend fun receiptPreview(saleId: String): Result<ReceiptPreview>
    suspend fun reprint(saleId: String): Result<PrintOutcome>

    /** A manager (signed in, or approving on the seller's session) enters NFC-e contingency. */
    suspend fun enterContingency(justification: String, approval: Approval?): Result<Unit>

    suspend fun offlineSales(): Result<List<OfflineSale>>
    suspend fun syncNow(): Result<SyncNowOutcome>
}
