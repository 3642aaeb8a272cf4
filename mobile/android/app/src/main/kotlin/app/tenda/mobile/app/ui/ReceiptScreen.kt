package app.tenda.mobile.app.ui

import android.graphics.BitmapFactory
import androidx.compose.foundation.Image
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Button
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.remember
import androidx.compose.ui.Modifier
import androidx.compose.ui.graphics.asImageBitmap
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import app.tenda.mobile.core.api.format
import app.tenda.mobile.core.presenter.ReceiptEvent
import app.tenda.mobile.core.presenter.ReceiptPresenter

@Composable
fun ReceiptScreen(presenter: ReceiptPresenter, onNextSale: () -> Unit) {
    val state by presenter.state.collectAsStateWithLifecycle()
    Column(Modifier.fillMaxSize().padding(16.dp), verticalArrangement = Arrangement.spacedBy(8.dp)) {
        Text("Venda ${state.sale.localNumber}: ${state.sale.total.format()}", style = MaterialTheme.typography.headlineSmall)
        if (state.sale.change.isPositive) Text("Troco ${state.sale.change.format()}", style = MaterialTheme.typography.titleLarge)
        state.sale.note?.let { note ->
            Text(if (note.contingency) "NFC-e ${note.number} em contingência" else "NFC-e ${note.number}: ${note.status}")
        }
        when {
            state.printing -> Text("Imprimindo…")
            state.printed -> Text("Cupom impresso")
            else -> Text("Cupom não impresso: ${state.printError ?: "sem impressora"}", color = MaterialTheme.colorScheme.error)
        }
        FailureBanner(state.failure) { presenter.handle(ReceiptEvent.DismissFailure) }
        val preview = state.preview
        val bitmap = remember(preview) { preview?.let { BitmapFactory.decodeByteArray(it.png, 0, it.png.size)?.asImageBitmap() } }
        Column(Modifier.weight(1f).verticalScroll(rememberScrollState())) {
            bitmap?.let { Image(it, contentDescription = "Cupom") }
        }
        Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            OutlinedButton(enabled = !state.printing, onClick = { presenter.handle(ReceiptEvent.Print) }) { Text("Imprimir de novo") }
            Button(onClick = onNextSale) { Text("Próxima venda") }
        }
    }
}
