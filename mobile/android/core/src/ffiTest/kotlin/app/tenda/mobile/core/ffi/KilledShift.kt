package app.tenda.mobile.core.ffi

import app.tenda.mobile.core.api.Approval
import app.tenda.mobile.core.api.Money
import app.tenda.mobile.core.api.PaymentRequest
import app.tenda.mobile.core.api.PosFailure
import java.io.File
import kotlinx.coroutines.runBlocking

/**
 * The app process in the middle of a shift: opens the device's store, sells one item offline
 * with cash, prints the sale id, and halts at once (no shutdown, no close), as Android kills a
 * backgrounded app.
 */
object KilledShift {
    const val HALTED = 137

    @JvmStatic
    fun main(args: Array<String>) {
        val (dir, login, pin, code) = args
        val manager = Approval(args[4], args[5])
        val sefaz = TestStack.sefaz(args[6], args[7])
        runBlocking {
            val repository = FfiPosRepository.open(File(dir, "tenda.db").path, FileKeyVault(File(dir)), "device", sefaz).getOrThrow()
            repository.signIn(login, pin).getOrThrow()
            val ticket = repository.scan(code).getOrThrow()
            // The register session survives the restart; opening it again is refused as already open.
            repository.openRegister(Money(0), manager).onFailure { check((it as PosFailure).code == "invalid_state") { it } }
            val payment = listOf(PaymentRequest.Cash(ticket.total, ticket.total))
            // The link is down again: SEFAZ is unreachable, and the manager authorizes contingency.
            val sale = repository.checkout(payment).recoverCatching { failure ->
                if (failure != PosFailure.ContingencyRequired) throw failure
                repository.enterContingency("Internet da loja fora do ar outra vez", manager).getOrThrow()
                repository.checkout(payment).getOrThrow()
            }.getOrThrow()
            println(sale.saleId)
            System.out.flush()
        }
        Runtime.getRuntime().halt(HALTED)
    }
}
