package app.tenda.mobile.app.ui

import androidx.compose.foundation.background
import androidx.compose.foundation.clickable
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.material3.Badge
import androidx.compose.material3.BadgedBox
import androidx.compose.material3.Button
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.graphics.Color
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import app.tenda.mobile.core.api.DeadlineAlarm
import app.tenda.mobile.core.api.LinkState
import app.tenda.mobile.core.api.PeripheralState
import app.tenda.mobile.core.api.SefazMode
import app.tenda.mobile.core.presenter.StatusBarPresenter

@Composable
fun StatusBar(presenter: StatusBarPresenter, onEnterContingency: () -> Unit, onOpenOfflineSales: () -> Unit) {
    val state by presenter.state.collectAsStateWithLifecycle()
    val color = when {
        state.mode == SefazMode.CONTINGENCY_REQUIRED -> Color(0xFFB00020)
        state.mode == SefazMode.CONTINGENCY -> Color(0xFFE65100)
        state.link == LinkState.OFFLINE -> Color(0xFF5D4037)
        else -> Color(0xFF1B5E20)
    }
    Row(
        Modifier.fillMaxWidth().background(color).padding(horizontal = 12.dp, vertical = 6.dp),
        horizontalArrangement = Arrangement.spacedBy(12.dp),
        verticalAlignment = Alignment.CenterVertically,
    ) {
        val label = when (state.mode) {
            SefazMode.NORMAL -> if (state.link == LinkState.ONLINE) "Online" else "Sem internet"
            SefazMode.CONTINGENCY_REQUIRED -> "SEFAZ fora do ar"
            SefazMode.CONTINGENCY -> "Contingência"
            SefazMode.DRAINING -> "Enviando notas"
        }
        Text(label, color = Color.White)
        BadgedBox(
            badge = { if (state.badge > 0) Badge { Text(state.badge.toString()) } },
            modifier = Modifier.clickable(onClick = onOpenOfflineSales),
        ) { Text("${state.pendingSales} vendas · ${state.pendingNotes} notas", color = Color.White) }
        state.deadline?.let { d ->
            val urgent = d.overdue || d.alarm == DeadlineAlarm.URGENT || d.alarm == DeadlineAlarm.OVERDUE
            Text("Prazo: ${countdownText(d.left)}", color = if (urgent) Color.Yellow else Color.White)
        }
        if (state.notesNeedingCorrection > 0) Text("${state.notesNeedingCorrection} a corrigir", color = Color.Yellow)
        if (state.printer is PeripheralState.NeedsAttention) {
            Text("Impressora: ${(state.printer as PeripheralState.NeedsAttention).reason}", color = Color.Yellow)
        }
        if (state.offersContingency) Button(onClick = onEnterContingency) { Text("Entrar em contingência") }
    }
}
