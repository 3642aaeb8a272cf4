package app.tenda.mobile.core.ffi

import app.tenda.mobile.core.api.Approval
import app.tenda.mobile.core.api.CardOfflineRisk
import app.tenda.mobile.core.api.Customer
import app.tenda.mobile.core.api.Discount
import app.tenda.mobile.core.api.Money
import app.tenda.mobile.core.api.OfflineSale
import app.tenda.mobile.core.api.Operator
import app.tenda.mobile.core.api.PaymentRequest
import app.tenda.mobile.core.api.PosDispatchers
import app.tenda.mobile.core.api.PosFailure
import app.tenda.mobile.core.api.PosRepository
import app.tenda.mobile.core.api.PosStatus
import app.tenda.mobile.core.api.PrintOutcome
import app.tenda.mobile.core.api.ProductView
import app.tenda.mobile.core.api.ReceiptPreview
import app.tenda.mobile.core.api.SaleOutcome
import app.tenda.mobile.core.api.SyncNowOutcome
import app.tenda.mobile.core.api.Ticket
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.SharingStarted
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.flow.callbackFlow
import kotlinx.coroutines.flow.map
import kotlinx.coroutines.flow.stateIn
import kotlinx.coroutines.withContext
import tenda.pos.KeyStore
import tenda.pos.SefazAccess
import tenda.pos.SefazRoute
import tenda.pos.StatusListener
import tenda.pos.TendaException

/**
 * The repository over the generated bindings. Every call runs on [PosDispatchers.io] (the core
 * blocks on SQLCipher and its runtime; the main thread never waits on it) and comes back as a
 * `Result` whose failure is a [PosFailure] with the core's code. The status reaches screens as a
 * `StateFlow` built on the core's status listener.
 */
class FfiPosRepository private constructor(
    private val pos: tenda.ffi.Pos,
    private val dispatchers: PosDispatchers,
) : PosRepository, AutoCloseable {
    private val statusScope = CoroutineScope(SupervisorJob() + dispatchers.io)

    /** Customers the seller looked up, to show the one on the ticket by name. */
    private val customers = java.util.concurrent.ConcurrentHashMap<String, Customer>()

    override val status: StateFlow<PosStatus> =
        statusUpdates(pos).map { it.toApi() }.stateIn(statusScope, SharingStarted.Eagerly, pos.status().toApi())

    companion object {
        /**
         * Opens an enrolled device's store; the database key comes from the host's [vault].
         * SEFAZ is reached at [sefaz] when given (homologation, the simulator), else at the
         * official address of the store's state.
         */
        suspend fun open(
            dbPath: String,
            vault: KeyStore,
            keyAccount: String,
            sefaz: SefazAccess? = null,
            dispatchers: PosDispatchers = PosDispatchers.DEFAULT,
        ): Result<FfiPosRepository> = withContext(dispatchers.io) {
            val official = tenda.ffi.openConfig(dbPath, keyAccount)
            val config = sefaz?.let { official.copy(sefaz = SefazRoute.At(it)) } ?: official
            ffi { FfiPosRepository(tenda.ffi.open(config, vault, null), dispatchers) }
        }

        /** Wraps a point of sale the caller opened or enrolled (tests, enrollment screens). */
        fun of(pos: tenda.ffi.Pos, dispatchers: PosDispatchers = PosDispatchers.DEFAULT) = FfiPosRepository(pos, dispatchers)

        /**
         * The core's status listener as a Flow: subscribing registers a listener, and closing the
         * flow drops the subscription handle, which stops delivery on the Rust side. Only the last
         * status matters to a screen, so a slow collector sees the newest one, never a stale one.
         */
        fun statusUpdates(pos: tenda.ffi.Pos): Flow<tenda.pos.PosStatus> = callbackFlow {
            val subscription = pos.subscribe(object : StatusListener {
                override fun onStatus(status: tenda.pos.PosStatus) {
                    trySend(status)
                }
            })
            awaitClose { subscription.close() }
        }.buffer(kotlinx.coroutines.channels.Channel.CONFLATED)

        private inline fun <T> ffi(call: () -> T): Result<T> = try {
            Result.success(call())
        } catch (e: CancellationException) {
            throw e
        } catch (e: TendaException) {
            Result.failure(e.toFailure())
        } catch (e: Exception) {
            Result.failure(PosFailure.Internal(e.toString()))
        }
    }

    private suspend fun <T> call(block: suspend () -> T): Result<T> = withContext(dispatchers.io) {
        try {
            Result.success(block())
        } catch (e: CancellationException) {
            throw e
        } catch (e: TendaException) {
            Result.failure(e.toFailure())
        } catch (e: Exception) {
            Result.failure(PosFailure.Internal(e.toString()))
        }
    }

    private fun ticketView(): Ticket = pos.ticket().toApi(customers)

    override suspend fun signIn(login: String, pin: String): Result<Operator> =
        call { pos.signIn(login, tenda.domain.Secret.Pin(pin)).toApi() }

    override suspend fun signOut(): Result<Unit> = call { pos.signOut() }

    override suspend fun registerIsOpen(): Result<Boolean> = call { pos.registerSession() != null }

    override suspend fun openRegister(float: Money, approval: Approval?): Result<Unit> =
        call { pos.openRegister(float.centavos, approval?.toFfi()) }

    override suspend fun ticket(): Result<Ticket> = call { ticketView() }

    override suspend fun scan(code: String): Result<Ticket> = call { pos.scanAndView(code).toApi(customers) }

    override suspend fun searchProducts(text: String, limit: Int): Result<List<ProductView>> =
        call { pos.searchProducts(text, limit.toUInt()).map { it.toApi() } }

    override suspend fun addProduct(product: ProductView, quantityThousandths: Long): Result<Ticket> = call {
        // The SKU finds exactly this product, as a typed code would.
        pos.scan(product.sku, quantityThousandths)
        ticketView()
    }

    override suspend fun setQuantity(line: Int, quantityThousandths: Long): Result<Ticket> = call {
        pos.setQuantity(line.toUInt(), quantityThousandths)
        ticketView()
    }

    override suspend fun voidLine(line: Int, approval: Approval?): Result<Ticket> = call {
        pos.voidLine(line.toUInt(), approval?.toFfi())
        ticketView()
    }

    override suspend fun setLineDiscount(line: Int, discount: Discount?, approval: Approval?): Result<Ticket> = call {
        pos.setLineDiscount(line.toUInt(), discount?.toFfi(), approval?.toFfi())
        ticketView()
    }

    override suspend fun setSaleDiscount(discount: Discount?, approval: Approval?): Result<Ticket> = call {
        pos.setSaleDiscount(discount?.toFfi(), approval?.toFfi())
        ticketView()
    }

    override suspend fun searchCustomers(text: String, limit: Int): Result<List<Customer>> = call {
        pos.searchCustomers(text, limit.toUInt()).map { it.toApi() }
    }

    override suspend fun setCustomer(customerId: String?): Result<Ticket> = call {
        pos.setCustomer(customerId)?.let { customers[it.id] = it.toApi() }
        ticketView()
    }

    override suspend fun clearTicket(): Result<Ticket> = call {
        pos.clearTicket()
        ticketView()
    }

    override suspend fun cardOfflineRisk(amount: Money): Result<CardOfflineRisk> =
        call { pos.cardOfflineRisk(amount.centavos).toApi() }

    override suspend fun acceptCardOfflineRisk(): Result<Unit> = call { pos.acceptCardOfflineRisk() }

    override suspend fun checkout(payments: List<PaymentRequest>): Result<SaleOutcome> =
        call { pos.checkout(payments.map { it.toFfi() }).toApi() }

    override suspend fun receiptPreview(saleId: String): Result<ReceiptPreview> = call {
        val png = pos.receiptPng(saleId)
        ReceiptPreview(png, pngWidth(png))
    }

    override suspend fun reprint(saleId: String): Result<PrintOutcome> =
        call { pos.reprint(saleId).let { PrintOutcome(it.printed, it.printError) } }

    override suspend fun enterContingency(justification: String, approval: Approval?): Result<Unit> =
        call { pos.enterContingency(justification, approval?.toFfi()) }

    override suspend fun offlineSales(): Result<List<OfflineSale>> = call { pos.offlineSales().map { it.toApi() } }

    /** Asks the sync engine for a round and sends the notes waiting for SEFAZ (the core's "sync now"). */
    override suspend fun syncNow(): Result<SyncNowOutcome> = call {
        pos.syncOfflineSalesNow().let { SyncNowOutcome(it.syncRequested, it.syncUnavailable) }
    }

    /** Stops the core's background work and the status subscription; later calls fail typed. */
    suspend fun shutdown() {
        withContext(dispatchers.io) { pos.shutdown() }
        statusScope.cancel()
    }

    override fun close() {
        statusScope.cancel()
        pos.close()
    }
}
