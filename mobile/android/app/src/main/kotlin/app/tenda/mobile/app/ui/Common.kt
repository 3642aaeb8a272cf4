package app.tenda.mobile.app.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.material3.AlertDialog
import androidx.compose.material3.Button
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.dp
import androidx.compose.material3.OutlinedTextField
import app.tenda.mobile.core.api.PosFailure
import app.tenda.mobile.core.api.format
import app.tenda.mobile.core.presenter.ApprovalDialog
import app.tenda.mobile.core.presenter.GuardedAction
import java.time.Duration

/** The seller's words for a refusal, by the core's stable code (the message is for support). */
fun failureText(failure: PosFailure): String = when (failure) {
    is PosFailure.Offline -> "Sem internet: ${failure.why}"
    is PosFailure.Forbidden -> "Precisa da aprovação de um gerente"
    is PosFailure.WrongCredentials -> "PIN incorreto. Restam ${failure.remainingAttempts} tentativas"
    is PosFailure.LockedOut -> "Bloqueado por excesso de tentativas"
    is PosFailure.InvalidInput -> "Valor inválido (${failure.field}): ${failure.reason}"
    is PosFailure.Rejected -> "Recusado (${failure.authorityCode}): ${failure.reason}"
    is PosFailure.LimitExceeded -> "Limite excedido: ${failure.limit}"
    PosFailure.ContingencyRequired -> "SEFAZ fora do ar: um gerente precisa autorizar a contingência"
    is PosFailure.NotFound -> "Não encontrado: ${failure.what}"
    is PosFailure.InvalidState -> failure.reason
    is PosFailure.InsufficientStock -> "Sem estoque de ${failure.product}"
    is PosFailure.Peripheral -> "${failure.device}: ${failure.reason}"
    PosFailure.ShutDown -> "O caixa foi encerrado; abra o aplicativo de novo"
    is PosFailure.Fiscal, is PosFailure.Keystore, is PosFailure.Storage, is PosFailure.Host, is PosFailure.Internal ->
        "Erro no aparelho (${failure.code}). Nada foi perdido; chame o suporte."
}

/** "23h 59m", "4m 05s", "atrasada". */
fun countdownText(left: Duration): String {
    // Duration.toMinutesPart() needs API 31; the app runs from API 26.
    val seconds = left.seconds
    return when {
        left.isNegative || left.isZero -> "atrasada"
        seconds >= 3600 -> "${seconds / 3600}h ${"%02d".format((seconds % 3600) / 60)}m"
        else -> "${seconds / 60}m ${"%02d".format(seconds % 60)}s"
    }
}

@Composable
fun FailureBanner(failure: PosFailure?, onDismiss: () -> Unit) {
    if (failure == null) return
    Row(Modifier.fillMaxWidth().padding(8.dp), horizontalArrangement = Arrangement.SpaceBetween) {
        Text(failureText(failure), color = MaterialTheme.colorScheme.error, modifier = Modifier.weight(1f))
        TextButton(onClick = onDismiss) { Text("OK") }
    }
}

/** A numeric keypad for PINs; only the number of digits typed is ever shown. */
@Composable
fun PinPad(pinLength: Int, enabled: Boolean, onDigit: (Char) -> Unit, onBackspace: () -> Unit) {
    Column(horizontalAlignment = androidx.compose.ui.Alignment.CenterHorizontally) {
        Text("●".repeat(pinLength).ifEmpty { " " }, style = MaterialTheme.typography.headlineMedium)
        listOf("123", "456", "789", "⌫0").forEach { row ->
            Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                row.forEach { key ->
                    OutlinedButton(
                        enabled = enabled,
                        onClick = { if (key == '⌫') onBackspace() else onDigit(key) },
                    ) { Text(key.toString()) }
                }
            }
        }
    }
}

@Composable
fun ConfirmDialog(title: String, text: String, confirm: String, onConfirm: (() -> Unit)?, onDismiss: () -> Unit) {
    AlertDialog(
        onDismissRequest = onDismiss,
        title = { Text(title) },
        text = { Text(text) },
        confirmButton = { if (onConfirm != null) Button(onClick = onConfirm) { Text(confirm) } },
        dismissButton = { TextButton(onClick = onDismiss) { Text("Voltar") } },
    )
}

/** A manager approves on the seller's device: their own login and PIN, checked by the core. */
@Composable
fun ManagerApprovalDialog(
    dialog: ApprovalDialog,
    onLogin: (String) -> Unit,
    onDigit: (Char) -> Unit,
    onBackspace: () -> Unit,
    onConfirm: () -> Unit,
    onDismiss: () -> Unit,
) {
    val what = when (val action = dialog.action) {
        is GuardedAction.VoidLine -> "cancelar o item ${action.line + 1}"
        is GuardedAction.LineDiscount -> "dar desconto no item ${action.line + 1}"
        is GuardedAction.SaleDiscount -> "dar desconto na venda"
        is GuardedAction.OpenRegister -> "abrir o caixa com ${action.float.format()}"
    }
    AlertDialog(
        onDismissRequest = onDismiss,
        title = { Text("Aprovação do gerente") },
        text = {
            Column(verticalArrangement = Arrangement.spacedBy(8.dp)) {
                Text("Para $what é preciso a permissão ${dialog.permission}.")
                OutlinedTextField(value = dialog.login, onValueChange = onLogin, label = { Text("Gerente") }, singleLine = true)
                PinPad(pinLength = dialog.pinLength, enabled = !dialog.checking, onDigit = onDigit, onBackspace = onBackspace)
                dialog.failure?.let { Text(failureText(it), color = MaterialTheme.colorScheme.error) }
            }
        },
        confirmButton = { Button(enabled = dialog.canConfirm, onClick = onConfirm) { Text("Aprovar") } },
        dismissButton = { TextButton(onClick = onDismiss) { Text("Voltar") } },
    )
}
