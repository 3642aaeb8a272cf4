import SwiftUI
import TendaCore

public struct OpenRegisterView: View {
    @ObservedObject var presenter: OpenRegisterPresenter
    let onOpen: () -> Void

    public var body: some View {
        let state = presenter.state
        VStack(spacing: 12) {
            Text("Abrir o caixa").font(.title2)
            if state.checking { ProgressView() }
            TextField("Troco inicial na gaveta", text: Binding(get: { state.floatText }, set: { presenter.handle(.floatChanged($0)) }))
                .keyboardType(.decimalPad).textFieldStyle(.roundedBorder)
            if let f = state.failure { Text(failureText(f)).foregroundColor(.red) }
            Button("Abrir") { presenter.handle(.submit) }.buttonStyle(.borderedProminent).disabled(!state.canSubmit)
        }
        .padding(24)
        .onChange(of: state.open) { open in if open { onOpen() } }
        .sheet(isPresented: Binding(get: { state.approval != nil }, set: { if !$0 { presenter.handle(.approvalDismiss) } })) {
            if let dialog = state.approval {
                ManagerApprovalView(
                    dialog: dialog,
                    onLogin: { presenter.handle(.approvalLoginChanged($0)) },
                    onDigit: { presenter.handle(.approvalPinDigit($0)) },
                    onBackspace: { presenter.handle(.approvalPinBackspace) },
                    onConfirm: { presenter.handle(.approvalConfirm) },
                    onDismiss: { presenter.handle(.approvalDismiss) })
            }
        }
    }
}
