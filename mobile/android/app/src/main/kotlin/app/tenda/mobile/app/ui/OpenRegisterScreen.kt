package app.tenda.mobile.app.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.text.KeyboardOptions
import androidx.compose.material3.Button
import androidx.compose.material3.CircularProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.text.input.KeyboardType
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import app.tenda.mobile.core.presenter.OpenRegisterEvent
import app.tenda.mobile.core.presenter.OpenRegisterPresenter

@Composable
fun OpenRegisterScreen(presenter: OpenRegisterPresenter, onOpen: () -> Unit) {
    val state by presenter.state.collectAsStateWithLifecycle()
    LaunchedEffect(state.open) { if (state.open) onOpen() }
    Column(
        Modifier.fillMaxSize().padding(24.dp),
        horizontalAlignment = Alignment.CenterHorizontally,
        verticalArrangement = Arrangement.spacedBy(12.dp),
    ) {
        Text("Abrir o caixa", style = MaterialTheme.typography.headlineSmall)
        if (state.checking) CircularProgressIndicator()
        OutlinedTextField(
            value = state.floatText,
            onValueChange = { presenter.handle(OpenRegisterEvent.FloatChanged(it)) },
            label = { Text("Troco inicial na gaveta") },
            keyboardOptions = KeyboardOptions(keyboardType = KeyboardType.Decimal),
            singleLine = true,
        )
        state.failure?.let { Text(failureText(it), color = MaterialTheme.colorScheme.error) }
        Button(enabled = state.canSubmit, onClick = { presenter.handle(OpenRegisterEvent.Submit) }) { Text("Abrir") }
    }
    state.approval?.let { dialog ->
        ManagerApprovalDialog(
            dialog = dialog,
            onLogin = { presenter.handle(OpenRegisterEvent.ApprovalLoginChanged(it)) },
            onDigit = { presenter.handle(OpenRegisterEvent.ApprovalPinDigit(it)) },
            onBackspace = { presenter.handle(OpenRegisterEvent.ApprovalPinBackspace) },
            onConfirm = { presenter.handle(OpenRegisterEvent.ApprovalConfirm) },
            onDismiss = { presenter.handle(OpenRegisterEvent.ApprovalDismiss) },
        )
    }
}
