import SwiftUI
import TendaCore

public struct SignInView: View {
    @ObservedObject var presenter: SignInPresenter
    let onSignedIn: () -> Void

    public var body: some View {
        let state = presenter.state
        VStack(spacing: 12) {
            Text("Entrar").font(.title2)
            TextField("Usuário", text: Binding(get: { state.login }, set: { presenter.handle(.loginChanged($0)) }))
                .textFieldStyle(.roundedBorder).textInputAutocapitalization(.never)
            PinPad(pinLength: state.pinLength, enabled: !isLocked(state.phase) && state.phase != .checking,
                   onDigit: { presenter.handle(.pinDigit($0)) }, onBackspace: { presenter.handle(.pinBackspace) })
            switch state.phase {
            case .wrongPin(let left): Text("PIN incorreto. Restam \(left) tentativas").foregroundColor(.red)
            case .lockedOut(_, let secondsLeft):
                Text("Bloqueado. Tente de novo em \(secondsLeft / 60):\(String(format: "%02d", secondsLeft % 60))").foregroundColor(.red)
            case .failed(let f): Text(failureText(f)).foregroundColor(.red)
            case .checking: ProgressView()
            case .idle, .signedIn: EmptyView()
            }
            Button("Entrar") { presenter.handle(.submit) }.buttonStyle(.borderedProminent).disabled(!state.canSubmit)
        }
        .padding(24)
        .onChange(of: state.phase) { phase in if case .signedIn = phase { onSignedIn() } }
    }

    private func isLocked(_ phase: SignInPhase) -> Bool { if case .lockedOut = phase { return true }; return false }
}
