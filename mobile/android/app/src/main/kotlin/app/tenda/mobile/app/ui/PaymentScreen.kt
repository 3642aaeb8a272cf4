package app.tenda.mobile.app.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.text.KeyboardOptions
import androidx.compose.material3.Button
import androidx.compose.material3.CircularProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.text.input.KeyboardType
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import app.tenda.mobile.core.api.CardKind
import app.tenda.mobile.core.api.PaymentRequest
import app.tenda.mobile.core.api.SaleOutcome
import app.tenda.mobile.core.api.format
import app.tenda.mobile.core.presenter.PaymentEvent
import app.tenda.mobile.core.presenter.PaymentPhase
import app.tenda.mobile.core.presenter.PaymentPresenter

@Composable
fun PaymentScreen(presenter: PaymentPresenter, onPaid: (SaleOutcome) -> Unit, onBack: () -> Unit) {
    val state by presenter.state.collectAsStateWithLifecycle()
    LaunchedEffect(state.phase) { (state.phase as? PaymentPhase.Paid)?.let { onPaid(it.outcome) } }
    val entering = state.phase == PaymentPhase.Entering
    Column(Modifier.fillMaxSize().padding(16.dp), verticalArrangement = Arrangement.spacedBy(12.dp)) {
        Text("Total ${state.total.format()}", style = MaterialTheme.typography.headlineSmall)
        state.entered.forEach { p ->
            val kind = when (p) {
                is PaymentRequest.Cash -> "Dinheiro"
                is PaymentRequest.Card -> "Cartão"
                is PaymentRequest.Pix -> "PIX"
                is PaymentRequest.CustomerAccount -> "Conta do cliente"
            }
            Text("$kind ${p.amount.format()}")
        }
        Text("Falta ${state.remaining.format()}", style = MaterialTheme.typography.titleMedium)
        OutlinedTextField(
            value = state.tenderedText,
            onValueChange = { presenter.handle(PaymentEvent.TenderedChanged(it)) },
            label = { Text("Dinheiro recebido") },
            keyboardOptions = KeyboardOptions(keyboardType = KeyboardType.Decimal),
            singleLine = true,
        )
        state.changePreview?.let { Text("Troco ${it.format()}") }
        Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            Button(enabled = entering, onClick = { presenter.handle(PaymentEvent.PayCash) }) { Text("Dinheiro") }
            Button(enabled = entering, onClick = { presenter.handle(PaymentEvent.PayCard(CardKind.DEBIT)) }) { Text("Débito") }
            Button(enabled = entering, onClick = { presenter.handle(PaymentEvent.PayCard(CardKind.CREDIT)) }) { Text("Crédito") }
        }
        Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            // The button stays pressable: the core refuses PIX offline and the refusal says why.
            Button(enabled = entering, onClick = { presenter.handle(PaymentEvent.PayPix) }) { Text("PIX") }
            Button(enabled = entering && state.canPayOnAccount, onClick = { presenter.handle(PaymentEvent.PayOnAccount) }) {
                Text(state.customer?.let { "Conta de ${it.name}" } ?: "Conta do cliente")
            }
        }
        state.pixUnavailable?.let { Text("PIX indisponível: $it", style = MaterialTheme.typography.bodySmall) }
        if (state.phase == PaymentPhase.Charging || state.phase == PaymentPhase.Loading) CircularProgressIndicator()
        FailureBanner(state.failure) { presenter.handle(PaymentEvent.DismissFailure) }
        TextButton(enabled = entering, onClick = onBack) { Text("Voltar aos itens") }
    }
    state.riskPrompt?.let { prompt ->
        val risk = prompt.risk
        val details = buildString {
            appendLine(risk.notice)
            appendLine("Limite por pagamento: ${risk.perPaymentLimit.format()}")
            append("Pendentes: ${risk.pendingCount} (${risk.pendingTotal.format()} de ${risk.totalPendingLimit.format()})")
            risk.refusal?.let { append("\n\nNão permitido: $it") }
        }
        ConfirmDialog(
            title = "Cartão sem internet: ${prompt.amount.format()}",
            text = details,
            confirm = "Aceitar o risco",
            onConfirm = if (risk.allowed) ({ presenter.handle(PaymentEvent.AcceptCardRisk) }) else null,
            onDismiss = { presenter.handle(PaymentEvent.DeclineCardRisk) },
        )
    }
}
