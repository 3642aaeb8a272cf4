import SwiftUI
import TendaCore

public struct CounterView: View {
    @ObservedObject var presenter: CounterPresenter
    let onPay: () -> Void
    @State private var camera = false

    public var body: some View {
        let state = presenter.state
        VStack(spacing: 8) {
            HStack {
                TextField("Buscar produto", text: Binding(get: { state.query }, set: { presenter.handle(.queryChanged($0)) }))
                    .textFieldStyle(.roundedBorder)
                Button(camera ? "Fechar câmera" : "Câmera") { camera.toggle() }
            }
            if camera { CameraScannerView { presenter.handle(.scanned(code: $0, source: .camera)) }.frame(height: 180) }
            ForEach(state.results, id: \.id) { product in
                Button { presenter.handle(.addProduct(product)) } label: {
                    HStack { Text(product.name); Spacer(); Text(product.price.formatted) }
                }
            }
            FailureBanner(failure: state.failure) { presenter.handle(.dismissFailure) }
            List(state.ticket.lines, id: \.index) { line in
                HStack {
                    VStack(alignment: .leading) {
                        Text(line.name)
                        Text("\(line.quantityThousandths / 1000),\(String(format: "%03d", line.quantityThousandths % 1000)) \(line.unit) × \(line.unitPrice.formatted)").font(.caption)
                        if line.discount.isPositive { Text("Desconto \(line.discount.formatted)").font(.caption) }
                    }
                    Spacer()
                    Text(line.total.formatted)
                }
                .swipeActions {
                    Button("Cancelar", role: .destructive) { presenter.handle(.voidLine(line.index)) }
                    Button("-5%") { presenter.handle(.setLineDiscount(line: line.index, discount: .percent(basisPoints: 500))) }
                }
            }
            HStack {
                VStack(alignment: .leading) {
                    if state.ticket.discount.isPositive { Text("Descontos \(state.ticket.discount.formatted)") }
                    Text("Total \(state.ticket.total.formatted)").font(.title2)
                }
                Spacer()
                Button("Pagar", action: onPay).buttonStyle(.borderedProminent).disabled(!state.canPay)
            }
        }
        .padding(12)
        .sheet(isPresented: Binding(get: { state.approval != nil }, set: { if !$0 { presenter.handle(.approvalDismiss) } })) {
            if let dialog = state.approval { ApprovalSheet(dialog: dialog, presenter: presenter) }
        }
    }
}

/// A manager approves on the seller's device with their own login and PIN.
struct ApprovalSheet: View {
    let dialog: ApprovalDialog
    let presenter: CounterPresenter

    var body: some View {
        ManagerApprovalView(
            dialog: dialog,
            onLogin: { presenter.handle(.approvalLoginChanged($0)) },
            onDigit: { presenter.handle(.approvalPinDigit($0)) },
            onBackspace: { presenter.handle(.approvalPinBackspace) },
            onConfirm: { presenter.handle(.approvalConfirm) },
            onDismiss: { presenter.handle(.approvalDismiss) })
    }
}
