package app.tenda.mobile.app.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.material3.Button
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import app.tenda.mobile.core.api.SefazMode
import app.tenda.mobile.core.presenter.ContingencyEvent
import app.tenda.mobile.core.presenter.ContingencyPresenter

@Composable
fun ContingencyScreen(presenter: ContingencyPresenter, onDone: () -> Unit) {
    val state by presenter.state.collectAsStateWithLifecycle()
    LaunchedEffect(state.entered) { if (state.entered) onDone() }
    Column(Modifier.fillMaxSize().padding(16.dp), verticalArrangement = Arrangement.spacedBy(12.dp)) {
        Text("Contingência offline (NFC-e)", style = MaterialTheme.typography.headlineSmall)
        Text(
            if (state.mode == SefazMode.CONTINGENCY_REQUIRED) "A SEFAZ não responde. Um gerente autoriza a emissão em contingência."
            else "Situação atual: ${state.mode}",
        )
        OutlinedTextField(
            value = state.justification,
            onValueChange = { presenter.handle(ContingencyEvent.JustificationChanged(it)) },
            label = { Text("Justificativa (impressa em cada nota)") },
            supportingText = {
                val bounds = state.justificationBounds
                Text("${state.justificationChars} caracteres (de ${bounds.first} a ${bounds.last})")
            },
            modifier = Modifier.fillMaxWidth(),
        )
        OutlinedTextField(
            value = state.login,
            onValueChange = { presenter.handle(ContingencyEvent.LoginChanged(it)) },
            label = { Text("Gerente") },
            singleLine = true,
        )
        PinPad(
            pinLength = state.pinLength,
            enabled = !state.submitting,
            onDigit = { presenter.handle(ContingencyEvent.PinDigit(it)) },
            onBackspace = { presenter.handle(ContingencyEvent.PinBackspace) },
        )
        state.failure?.let { Text(failureText(it), color = MaterialTheme.colorScheme.error) }
        Button(enabled = state.canSubmit, onClick = { presenter.handle(ContingencyEvent.Submit) }) { Text("Autorizar contingência") }
        TextButton(onClick = onDone) { Text("Voltar") }
    }
}
