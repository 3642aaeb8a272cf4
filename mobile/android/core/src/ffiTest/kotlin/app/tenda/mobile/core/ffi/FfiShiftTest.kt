package app.tenda.mobile.core.ffi

import app.tenda.mobile.core.api.CardKind
import app.tenda.mobile.core.api.LinkState
import app.tenda.mobile.core.api.NoteStatus
import app.tenda.mobile.core.api.SaleOutcome
import app.tenda.mobile.core.api.SefazMode
import app.tenda.mobile.core.api.SystemClock
import app.tenda.mobile.core.presenter.ContingencyEvent
import app.tenda.mobile.core.presenter.ContingencyPresenter
import app.tenda.mobile.core.presenter.CounterEvent
import app.tenda.mobile.core.presenter.CounterPresenter
import app.tenda.mobile.core.presenter.OfflineSalesEvent
import app.tenda.mobile.core.presenter.OfflineSalesPresenter
import app.tenda.mobile.core.presenter.OpenRegisterEvent
import app.tenda.mobile.core.presenter.OpenRegisterPresenter
import app.tenda.mobile.core.presenter.PaymentEvent
import app.tenda.mobile.core.presenter.PaymentPhase
import app.tenda.mobile.core.presenter.PaymentPresenter
import app.tenda.mobile.core.presenter.ScanSource
import app.tenda.mobile.core.presenter.SignInEvent
import app.tenda.mobile.core.presenter.SignInPhase
import app.tenda.mobile.core.presenter.SignInPresenter
import app.tenda.mobile.core.presenter.StatusBarPresenter
import java.io.File
import java.util.concurrent.TimeUnit
import kotlin.test.assertEquals
import kotlin.test.assertIs
import kotlin.test.assertNotNull
import kotlin.test.assertTrue
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Test

/**
 * A seller's whole shift through the presenters over the real core (the Rust library through the
 * generated Kotlin), a real tenda-server on loopback and the SEFAZ simulator; then the app process
 * killed mid-shift and reopened with nothing lost.
 */
class FfiShiftTest {
    private fun ShiftHarness.signIn(repository: FfiPosRepository, who: String) {
        val signIn = SignInPresenter(repository, SystemClock, scope)
        send(signIn, SignInEvent.LoginChanged(login(who)), *pin(who).map { SignInEvent.PinDigit(it) }.toTypedArray(), SignInEvent.Submit)
        await(signIn, "$who signed in") { it.phase is SignInPhase.SignedIn }
    }

    private fun ShiftHarness.sell(repository: FfiPosRepository, code: String, pay: ShiftHarness.(PaymentPresenter) -> Unit): SaleOutcome {
        val counter = CounterPresenter(repository, scope)
        send(counter, CounterEvent.Scanned(code, ScanSource.CAMERA))
        await(counter, "$code on the ticket") { it.canPay }
        val payment = PaymentPresenter(repository, scope)
        await(payment, "the payment screen") { it.phase == PaymentPhase.Entering }
        pay(payment)
        val paid = await(payment, "the sale paid") { it.phase is PaymentPhase.Paid || it.failure != null }
        return assertIs<PaymentPhase.Paid>(paid.phase, "checkout refused: ${paid.failure}").outcome
    }

    private fun ShiftHarness.payCash(payment: PaymentPresenter) {
        val total = payment.state.value.total
        send(payment, PaymentEvent.TenderedChanged("${total.centavos / 100},${"%02d".format(total.centavos % 100)}"), PaymentEvent.PayCash)
    }

    @Test
    fun `a seller's shift online, offline in contingency and back, then the app killed and reopened`() {
        TestStack().use { stack ->
            ShiftHarness(stack).use { h ->
                val repository = h.enroll()
                val bar = StatusBarPresenter(repository.status, SystemClock, h.scope)
                h.await(bar, "online") { it.link == LinkState.ONLINE }

                h.signIn(repository, "seller")
                val register = OpenRegisterPresenter(repository, h.scope)
                h.await(register, "the register checked") { !it.checking }
                h.send(register, OpenRegisterEvent.FloatChanged("100,00"), OpenRegisterEvent.Submit)
                h.await(register, "the manager's approval asked") { it.approval != null || it.open }
                h.send(
                    register,
                    OpenRegisterEvent.ApprovalLoginChanged(h.login("manager")),
                    *h.pin("manager").map { OpenRegisterEvent.ApprovalPinDigit(it) }.toTypedArray(),
                    OpenRegisterEvent.ApprovalConfirm,
                )
                h.await(register, "the register open") { it.open }

                val online = h.sell(repository, h.productCode(0)) { payCash(it) }
                assertEquals(NoteStatus.AUTHORIZED, online.note?.status, "SEFAZ authorized it online")

                stack.cut()
                h.await(bar, "the link reported down") { it.link == LinkState.OFFLINE }

                // The first sale without SEFAZ finds it unreachable: a manager must decide.
                val counter = CounterPresenter(repository, h.scope)
                h.send(counter, CounterEvent.Scanned(h.productCode(1), ScanSource.SCANNER))
                h.await(counter, "the item rung up") { it.canPay }
                val refused = PaymentPresenter(repository, h.scope)
                h.await(refused, "the payment screen") { it.phase == PaymentPhase.Entering }
                h.payCash(refused)
                h.await(refused, "contingency required") { it.failure?.code == "contingency_required" }
                h.await(bar, "the bar offering contingency") { it.offersContingency }

                val contingency = ContingencyPresenter(repository, h.scope)
                h.send(
                    contingency,
                    ContingencyEvent.JustificationChanged("Internet da loja fora do ar desde o meio-dia"),
                    ContingencyEvent.LoginChanged(h.login("manager")),
                    *h.pin("manager").map { ContingencyEvent.PinDigit(it) }.toTypedArray(),
                    ContingencyEvent.Submit,
                )
                h.await(contingency, "contingency entered") { it.entered }
                h.await(bar, "contingency on the bar") { it.mode == SefazMode.CONTINGENCY }

                val cashOffline = PaymentPresenter(repository, h.scope)
                h.await(cashOffline, "the payment screen") { it.phase == PaymentPhase.Entering }
                h.payCash(cashOffline)
                val cash = assertIs<PaymentPhase.Paid>(h.await(cashOffline, "paid offline") { it.phase is PaymentPhase.Paid }.phase).outcome
                assertEquals(true, cash.note?.contingency)

                val card = h.sell(repository, h.productCode(2)) { payment ->
                    send(payment, PaymentEvent.PayCard(CardKind.DEBIT))
                    val prompt = await(payment, "the offline card risk prompt") { it.riskPrompt != null }.riskPrompt!!
                    assertTrue(prompt.risk.offline && prompt.risk.allowed, "within the owner's offline limits: $prompt")
                    send(payment, PaymentEvent.AcceptCardRisk)
                }
                assertNotNull(card.note?.deadline)

                val list = OfflineSalesPresenter(repository, SystemClock, h.scope)
                val rows = h.await(list, "both offline sales listed") { s -> listOf(cash, card).all { sale -> s.rows.any { it.sale.saleId == sale.saleId } } }.rows
                assertTrue(rows.filter { it.sale.note?.contingency == true }.all { it.deadlineLeft != null && !it.overdue })
                val pendingBefore = h.await(bar, "pending sales and notes counted") { it.pendingNotes >= 2 }
                assertTrue(pendingBefore.badge >= 2)

                stack.restore()
                h.await(bar, "the link back") { it.link == LinkState.ONLINE }
                h.send(list, OfflineSalesEvent.SyncNow)
                h.await(bar, "the badge at zero") { it.badge == 0L }
                h.await(list, "the offline list empty") { it.rows.isEmpty() }

                val onServer = stack.serverSales()
                assertEquals(3, onServer.size, "each sale on the server exactly once: $onServer")
                // The server's JSON carries local numbers as text (64-bit safe).
                assertEquals(
                    setOf(online.localNumber, cash.localNumber, card.localNumber).map { it.toString() }.toSet(),
                    onServer.map { it["local_number"].toString() }.toSet(),
                )

                // The app process is killed mid-shift: a separate JVM sells offline and halts.
                stack.cut()
                runBlocking { repository.shutdown() }
                repository.close()
                val killed = runChildShift(h.dir, h)
                val reopened = runBlocking { FfiPosRepository.open(h.dbPath, FileKeyVault(h.dir), "device", h.sefaz, h.dispatchers) }.getOrThrow()
                val listAgain = OfflineSalesPresenter(reopened, SystemClock, h.scope)
                h.await(listAgain, "the killed process's sale listed after reopening") { s -> s.rows.any { it.sale.saleId == killed } }
                stack.restore()
                h.signIn(reopened, "seller")
                h.send(listAgain, OfflineSalesEvent.SyncNow)
                h.await(listAgain, "everything sent after reopening") { it.rows.isEmpty() }
                assertEquals(4, stack.serverSales().size, "the killed process's sale reached the server once")
                runBlocking { reopened.shutdown() }
            }
        }
    }

    /** Runs [KilledShift] in its own JVM; returns the id of the sale it committed before halting. */
    private fun runChildShift(dir: File, h: ShiftHarness): String {
        val process = ProcessBuilder(
            File(System.getProperty("java.home"), "bin/java").path,
            // Under the JUnit console launcher the test classes are not on java.class.path.
            "-cp", System.getProperty("tenda.classpath") ?: System.getProperty("java.class.path"),
            "-Djna.library.path=" + System.getProperty("jna.library.path"),
            KilledShift::class.java.name,
            dir.path, h.login("seller"), h.pin("seller"), h.productCode(3), h.login("manager"), h.pin("manager"),
            h.sefazUrl, h.sefazCaHex,
        ).redirectError(ProcessBuilder.Redirect.INHERIT).start()
        val saleId = process.inputStream.bufferedReader().readLine()
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), "the child JVM did not exit")
        assertEquals(KilledShift.HALTED, process.exitValue(), "the child halted on purpose after the sale")
        return assertNotNull(saleId, "the child printed no sale")
    }
}
