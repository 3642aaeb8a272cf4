import SwiftUI
import TendaCore
import UIKit

public struct ReceiptView: View {
    @ObservedObject var presenter: ReceiptPresenter
    let onNextSale: () -> Void

    public var body: some View {
        let state = presenter.state
        VStack(alignment: .leading, spacing: 8) {
            Text("Venda \(state.sale.localNumber): \(state.sale.total.formatted)").font(.title2)
            if state.sale.change.isPositive { Text("Troco \(state.sale.change.formatted)").font(.title) }
            if let note = state.sale.note { Text(note.contingency ? "NFC-e \(note.number) em contingência" : "NFC-e \(note.number)") }
            if state.printing { Text("Imprimindo…") }
            else if state.printed { Text("Cupom impresso") }
            else { Text("Cupom não impresso: \(state.printError ?? "sem impressora")").foregroundColor(.red) }
            FailureBanner(failure: state.failure) { presenter.handle(.dismissFailure) }
            ScrollView {
                if let png = state.preview?.png, let image = UIImage(data: png) { Image(uiImage: image).interpolation(.none) }
            }
            HStack {
                Button("Imprimir de novo") { presenter.handle(.print) }.disabled(state.printing)
                Button("Próxima venda", action: onNextSale).buttonStyle(.borderedProminent)
            }
        }
        .padding(16)
    }
}
