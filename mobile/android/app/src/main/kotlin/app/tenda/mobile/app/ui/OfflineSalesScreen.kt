package app.tenda.mobile.app.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.material3.Button
import androidx.compose.material3.CircularProgressIndicator
import androidx.compose.material3.HorizontalDivider
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import app.tenda.mobile.core.api.format
import app.tenda.mobile.core.presenter.OfflineSalesEvent
import app.tenda.mobile.core.presenter.OfflineSalesPresenter

@Composable
fun OfflineSalesScreen(presenter: OfflineSalesPresenter, onBack: () -> Unit) {
    val state by presenter.state.collectAsStateWithLifecycle()
    Column(Modifier.fillMaxSize().padding(12.dp), verticalArrangement = Arrangement.spacedBy(8.dp)) {
        Row(Modifier.fillMaxWidth(), horizontalArrangement = Arrangement.SpaceBetween) {
            Text("Vendas pendentes", style = MaterialTheme.typography.headlineSmall)
            Button(enabled = !state.syncing, onClick = { presenter.handle(OfflineSalesEvent.SyncNow) }) { Text("Sincronizar agora") }
        }
        state.lastSync?.syncUnavailable?.let { Text("Não foi possível sincronizar: $it") }
        FailureBanner(state.failure) { presenter.handle(OfflineSalesEvent.DismissFailure) }
        if (state.loading) CircularProgressIndicator()
        if (!state.loading && state.rows.isEmpty()) Text("Tudo enviado.")
        LazyColumn(Modifier.weight(1f)) {
            items(state.rows, key = { it.sale.saleId }) { row ->
                Row(Modifier.fillMaxWidth().padding(vertical = 6.dp), horizontalArrangement = Arrangement.SpaceBetween) {
                    Column(Modifier.weight(1f)) {
                        Text("Venda ${row.sale.localNumber} · ${row.sale.total.format()}")
                        val note = row.sale.note
                        Text(
                            buildString {
                                append(if (row.sale.synced) "no servidor" else "aguardando servidor")
                                if (note != null) append(" · NFC-e ${note.number} ${note.status}")
                                row.deadlineLeft?.let { append(" · prazo ${countdownText(it)}") }
                            },
                            color = if (row.overdue) MaterialTheme.colorScheme.error else MaterialTheme.colorScheme.onSurface,
                            style = MaterialTheme.typography.bodySmall,
                        )
                    }
                    TextButton(onClick = { presenter.handle(OfflineSalesEvent.Reprint(row.sale.saleId)) }) { Text("Reimprimir") }
                }
                HorizontalDivider()
            }
        }
        TextButton(onClick = onBack) { Text("Voltar") }
    }
}
