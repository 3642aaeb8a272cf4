import SwiftUI
import TendaCore

public struct OfflineSalesView: View {
    @ObservedObject var presenter: OfflineSalesPresenter
    let onBack: () -> Void

    public var body: some View {
        let state = presenter.state
        VStack(alignment: .leading, spacing: 8) {
            HStack {
                Text("Vendas pendentes").font(.title2)
                Spacer()
                Button("Sincronizar agora") { presenter.handle(.syncNow) }.disabled(state.syncing)
            }
            if let why = state.lastSync?.syncUnavailable { Text("Não foi possível sincronizar: \(why)") }
            FailureBanner(failure: state.failure) { presenter.handle(.dismissFailure) }
            if state.loading { ProgressView() }
            if !state.loading && state.rows.isEmpty { Text("Tudo enviado.") }
            List(state.rows, id: \.sale.saleId) { row in
                HStack {
                    VStack(alignment: .leading) {
                        Text("Venda \(row.sale.localNumber) · \(row.sale.total.formatted)")
                        Text(detail(row)).font(.caption).foregroundColor(row.overdue ? .red : .primary)
                    }
                    Spacer()
                    Button("Reimprimir") { presenter.handle(.reprint(saleId: row.sale.saleId)) }
                }
            }
            Button("Voltar", action: onBack)
        }
        .padding(12)
    }

    private func detail(_ row: OfflineSaleRow) -> String {
        var parts = [row.sale.synced ? "no servidor" : "aguardando servidor"]
        if let note = row.sale.note { parts.append("NFC-e \(note.number) \(String(describing: note.status))") }
        if let left = row.deadlineLeft { parts.append("prazo \(countdownText(left))") }
        return parts.joined(separator: " · ")
    }
}
