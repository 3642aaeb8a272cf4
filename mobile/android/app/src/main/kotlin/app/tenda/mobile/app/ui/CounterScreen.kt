package app.tenda.mobile.app.ui

import androidx.compose.foundation.clickable
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.height
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.material3.Button
import androidx.compose.material3.HorizontalDivider
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import app.tenda.mobile.core.api.Discount
import app.tenda.mobile.core.api.format
import app.tenda.mobile.core.presenter.ApprovalDialog
import app.tenda.mobile.core.presenter.CounterEvent
import app.tenda.mobile.core.presenter.CounterPresenter
import app.tenda.mobile.core.presenter.ScanSource

@Composable
fun CounterScreen(presenter: CounterPresenter, onPay: () -> Unit) {
    val state by presenter.state.collectAsStateWithLifecycle()
    var camera by remember { mutableStateOf(false) }
    Column(Modifier.fillMaxSize().padding(12.dp), verticalArrangement = Arrangement.spacedBy(8.dp)) {
        Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            OutlinedTextField(
                value = state.query,
                onValueChange = { presenter.handle(CounterEvent.QueryChanged(it)) },
                label = { Text("Buscar produto") },
                singleLine = true,
                modifier = Modifier.weight(1f),
            )
            Button(onClick = { camera = !camera }) { Text(if (camera) "Fechar câmera" else "Câmera") }
        }
        if (camera) {
            CameraScanner(Modifier.fillMaxWidth().height(180.dp)) { presenter.handle(CounterEvent.Scanned(it, ScanSource.CAMERA)) }
        }
        state.results.forEach { product ->
            Row(
                Modifier.fillMaxWidth().clickable { presenter.handle(CounterEvent.AddProduct(product)) }.padding(8.dp),
                horizontalArrangement = Arrangement.SpaceBetween,
            ) {
                Text(product.name)
                Text(product.price.format())
            }
        }
        FailureBanner(state.failure) { presenter.handle(CounterEvent.DismissFailure) }
        LazyColumn(Modifier.weight(1f)) {
            items(state.ticket.lines, key = { it.index }) { line ->
                Row(Modifier.fillMaxWidth().padding(vertical = 6.dp), horizontalArrangement = Arrangement.SpaceBetween) {
                    Column(Modifier.weight(1f)) {
                        Text(line.name)
                        Text(
                            "${line.quantityThousandths / 1000},${"%03d".format(line.quantityThousandths % 1000)} ${line.unit} × ${line.unitPrice.format()}",
                            style = MaterialTheme.typography.bodySmall,
                        )
                        if (line.discount.isPositive) Text("Desconto ${line.discount.format()}", style = MaterialTheme.typography.bodySmall)
                    }
                    Text(line.total.format())
                    TextButton(onClick = { presenter.handle(CounterEvent.SetLineDiscount(line.index, Discount.Percent(500))) }) { Text("-5%") }
                    TextButton(onClick = { presenter.handle(CounterEvent.VoidLine(line.index)) }) { Text("Cancelar") }
                }
                HorizontalDivider()
            }
        }
        Row(Modifier.fillMaxWidth(), horizontalArrangement = Arrangement.SpaceBetween) {
            Column {
                if (state.ticket.discount.isPositive) Text("Descontos ${state.ticket.discount.format()}")
                Text("Total ${state.ticket.total.format()}", style = MaterialTheme.typography.headlineSmall)
            }
            Button(enabled = state.canPay, onClick = onPay) { Text("Pagar") }
        }
    }
    state.approval?.let { ApprovalDialogView(it, presenter) }
}

@Composable
private fun ApprovalDialogView(dialog: ApprovalDialog, presenter: CounterPresenter) = ManagerApprovalDialog(
    dialog = dialog,
    onLogin = { presenter.handle(CounterEvent.ApprovalLoginChanged(it)) },
    onDigit = { presenter.handle(CounterEvent.ApprovalPinDigit(it)) },
    onBackspace = { presenter.handle(CounterEvent.ApprovalPinBackspace) },
    onConfirm = { presenter.handle(CounterEvent.ApprovalConfirm) },
    onDismiss = { presenter.handle(CounterEvent.ApprovalDismiss) },
)
