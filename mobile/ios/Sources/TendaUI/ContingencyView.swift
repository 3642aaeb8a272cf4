import SwiftUI
import TendaCore

public struct ContingencyView: View {
    @ObservedObject var presenter: ContingencyPresenter
    let onDone: () -> Void

    public var body: some View {
        let state = presenter.state
        VStack(alignment: .leading, spacing: 12) {
            Text("Contingência offline (NFC-e)").font(.title2)
            Text(state.mode == .contingencyRequired ? "A SEFAZ não responde. Um gerente autoriza a emissão em contingência." : "Situação atual: \(String(describing: state.mode))")
            TextField("Justificativa (impressa em cada nota)", text: Binding(get: { state.justification }, set: { presenter.handle(.justificationChanged($0)) }), axis: .vertical)
                .textFieldStyle(.roundedBorder)
            Text("\(state.justificationChars) caracteres (de \(state.justificationBounds.lowerBound) a \(state.justificationBounds.upperBound))").font(.caption)
            TextField("Gerente", text: Binding(get: { state.login }, set: { presenter.handle(.loginChanged($0)) }))
                .textFieldStyle(.roundedBorder).textInputAutocapitalization(.never)
            PinPad(pinLength: state.pinLength, enabled: !state.submitting,
                   onDigit: { presenter.handle(.pinDigit($0)) }, onBackspace: { presenter.handle(.pinBackspace) })
            if let f = state.failure { Text(failureText(f)).foregroundColor(.red) }
            Button("Autorizar contingência") { presenter.handle(.submit) }.buttonStyle(.borderedProminent).disabled(!state.canSubmit)
            Button("Voltar", action: onDone)
        }
        .padding(16)
        .onChange(of: state.entered) { entered in if entered { onDone() } }
    }
}
