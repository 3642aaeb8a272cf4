package app.tenda.mobile.core.presenter

import app.tenda.mobile.core.api.CardKind
import app.tenda.mobile.core.api.CardOfflineRisk
import app.tenda.mobile.core.api.Customer
import app.tenda.mobile.core.api.Features
import app.tenda.mobile.core.api.LinkState
import app.tenda.mobile.core.api.Money
import app.tenda.mobile.core.api.PaymentRequest
import app.tenda.mobile.core.api.PosFailure
import app.tenda.mobile.core.api.PosRepository
import app.tenda.mobile.core.api.SaleOutcome
import app.tenda.mobile.core.api.asPosFailure
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.launch
import tenda.pos.paymentDue

/** The card about to be charged without a link, and the core's verdict on its risk. */
data class CardRiskPrompt(val kind: CardKind, val amount: Money, val risk: CardOfflineRisk)

sealed interface PaymentPhase {
    data object Loading : PaymentPhase
    data object Entering : PaymentPhase
    data object Charging : PaymentPhase
    data class Paid(val outcome: SaleOutcome) : PaymentPhase
}

data class PaymentState(
    val total: Money = Money.ZERO,
    /** Part payments entered and not yet charged (cash handed over before a card, say). */
    val entered: List<PaymentRequest> = emptyList(),
    val tenderedText: String = "",
    val customer: Customer? = null,
    /** The core's reason PIX does not work now (offline), shown on the PIX button. */
    val pixUnavailable: String? = null,
    val offline: Boolean = false,
    val riskPrompt: CardRiskPrompt? = null,
    val phase: PaymentPhase = PaymentPhase.Loading,
    val failure: PosFailure? = null,
) {
    /** What is left to pay and the change for the cash typed, as the core computes them. */
    private val due get() = paymentDue(total.centavos, entered.map { it.amount.centavos }, tendered?.centavos)

    val remaining: Money get() = Money(due.remaining)

    /** What the typed cash amount is, or null while it is not an amount. */
    val tendered: Money? get() = Money.parse(tenderedText)

    /** Change for the cash typed, once it covers what is left. */
    val changePreview: Money? get() = due.change?.let(::Money)

    val canPayOnAccount: Boolean get() = customer != null
}

sealed interface PaymentEvent {
    data class TenderedChanged(val text: String) : PaymentEvent
    /** Cash for what is left (change given), or a part payment when the cash is less. */
    data object PayCash : PaymentEvent
    data class PayCard(val kind: CardKind) : PaymentEvent
    data object AcceptCardRisk : PaymentEvent
    data object DeclineCardRisk : PaymentEvent
    data object PayPix : PaymentEvent
    data object PayOnAccount : PaymentEvent
    data object DismissFailure : PaymentEvent
}

/**
 * Paying the ticket: cash with change, a card through the reader (offline, after the seller
 * accepts the core's risk notice within the owner's limits), PIX (which the core refuses offline,
 * with its reason) and the customer's account. Checkout commits the sale and prints.
 */
class PaymentPresenter(
    private val repository: PosRepository,
    private val scope: CoroutineScope,
) : Presenter<PaymentState, PaymentEvent>(PaymentState()) {
    init {
        scope.launch {
            repository.ticket().fold(
                onSuccess = { t -> update { it.copy(total = t.total, customer = t.customer, phase = PaymentPhase.Entering) } },
                onFailure = { e -> update { it.copy(phase = PaymentPhase.Entering, failure = e.asPosFailure()) } },
            )
        }
        scope.launch {
            repository.status.collect { status ->
                update {
                    it.copy(
                        offline = status.link == LinkState.OFFLINE,
                        pixUnavailable = status.unavailableReason(Features.PIX),
                    )
                }
            }
        }
    }

    override fun handle(event: PaymentEvent) {
        val s = state.value
        if (s.phase != PaymentPhase.Entering) return
        when (event) {
            is PaymentEvent.TenderedChanged -> update { it.copy(tenderedText = event.text) }
            PaymentEvent.PayCash -> payCash(s)
            is PaymentEvent.PayCard -> payCard(s, event.kind)
            PaymentEvent.AcceptCardRisk -> acceptCardRisk(s)
            PaymentEvent.DeclineCardRisk -> update { it.copy(riskPrompt = null) }
            PaymentEvent.PayPix -> checkout(s.entered + PaymentRequest.Pix(s.remaining, txid = null))
            PaymentEvent.PayOnAccount -> checkout(s.entered + PaymentRequest.CustomerAccount(s.remaining))
            PaymentEvent.DismissFailure -> update { it.copy(failure = null) }
        }
    }

    private fun payCash(s: PaymentState) {
        val tendered = s.tendered
        if (tendered == null || !tendered.isPositive) {
            update { it.copy(failure = PosFailure.InvalidInput("tendered", "type the cash handed over")) }
            return
        }
        if (tendered < s.remaining) {
            // A part payment: the rest is paid another way.
            update { it.copy(entered = it.entered + PaymentRequest.Cash(tendered, tendered), tenderedText = "") }
        } else {
            checkout(s.entered + PaymentRequest.Cash(s.remaining, tendered))
        }
    }

    private fun payCard(s: PaymentState, kind: CardKind) {
        val amount = s.remaining
        if (!s.offline) {
            checkout(s.entered + PaymentRequest.Card(amount, kind))
            return
        }
        // Without a link the card is stored and forwarded later: the seller sees the risk first.
        update { it.copy(phase = PaymentPhase.Charging) }
        scope.launch {
            repository.cardOfflineRisk(amount).fold(
                onSuccess = { risk -> update { it.copy(phase = PaymentPhase.Entering, riskPrompt = CardRiskPrompt(kind, amount, risk)) } },
                onFailure = { e -> update { it.copy(phase = PaymentPhase.Entering, failure = e.asPosFailure()) } },
            )
        }
    }

    private fun acceptCardRisk(s: PaymentState) {
        val prompt = s.riskPrompt ?: return
        if (!prompt.risk.allowed) return
        update { it.copy(phase = PaymentPhase.Charging, riskPrompt = null) }
        scope.launch {
            repository.acceptCardOfflineRisk().fold(
                onSuccess = { charge(s.entered + PaymentRequest.Card(prompt.amount, prompt.kind)) },
                onFailure = { e -> update { it.copy(phase = PaymentPhase.Entering, failure = e.asPosFailure()) } },
            )
        }
    }

    private fun checkout(payments: List<PaymentRequest>) {
        update { it.copy(phase = PaymentPhase.Charging, failure = null) }
        scope.launch { charge(payments) }
    }

    private suspend fun charge(payments: List<PaymentRequest>) {
        repository.checkout(payments).fold(
            onSuccess = { outcome -> update { it.copy(phase = PaymentPhase.Paid(outcome)) } },
            onFailure = { e -> update { it.copy(phase = PaymentPhase.Entering, failure = e.asPosFailure()) } },
        )
    }
}
