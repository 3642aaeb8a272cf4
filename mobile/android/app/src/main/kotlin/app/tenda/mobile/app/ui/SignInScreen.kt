package app.tenda.mobile.app.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.padding
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
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import app.tenda.mobile.core.presenter.SignInEvent
import app.tenda.mobile.core.presenter.SignInPhase
import app.tenda.mobile.core.presenter.SignInPresenter

@Composable
fun SignInScreen(presenter: SignInPresenter, onSignedIn: () -> Unit) {
    val state by presenter.state.collectAsStateWithLifecycle()
    LaunchedEffect(state.phase) { if (state.phase is SignInPhase.SignedIn) onSignedIn() }
    Column(
        Modifier.fillMaxSize().padding(24.dp),
        horizontalAlignment = Alignment.CenterHorizontally,
        verticalArrangement = Arrangement.spacedBy(12.dp),
    ) {
        Text("Entrar", style = MaterialTheme.typography.headlineSmall)
        OutlinedTextField(
            value = state.login,
            onValueChange = { presenter.handle(SignInEvent.LoginChanged(it)) },
            label = { Text("Usuário") },
            singleLine = true,
        )
        val locked = state.phase as? SignInPhase.LockedOut
        PinPad(
            pinLength = state.pinLength,
            enabled = locked == null && state.phase != SignInPhase.Checking,
            onDigit = { presenter.handle(SignInEvent.PinDigit(it)) },
            onBackspace = { presenter.handle(SignInEvent.PinBackspace) },
        )
        when (val phase = state.phase) {
            is SignInPhase.WrongPin -> Text("PIN incorreto. Restam ${phase.remainingAttempts} tentativas", color = MaterialTheme.colorScheme.error)
            is SignInPhase.LockedOut -> Text(
                "Bloqueado. Tente de novo em ${phase.secondsLeft / 60}:${"%02d".format(phase.secondsLeft % 60)}",
                color = MaterialTheme.colorScheme.error,
            )
            is SignInPhase.Failed -> Text(failureText(phase.failure), color = MaterialTheme.colorScheme.error)
            SignInPhase.Checking -> CircularProgressIndicator()
            SignInPhase.Idle, is SignInPhase.SignedIn -> Unit
        }
        Button(enabled = state.canSubmit, onClick = { presenter.handle(SignInEvent.Submit) }) { Text("Entrar") }
    }
}
