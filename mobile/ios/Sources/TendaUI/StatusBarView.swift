import SwiftUI
import TendaCore

public struct StatusBarView: View {
    @ObservedObject var presenter: StatusBarPresenter
    let onEnterContingency: () -> Void
    let onOpenOfflineSales: () -> Void

    public var body: some View {
        let state = presenter.state
        HStack(spacing: 12) {
            Text(label(state)).foregroundColor(.white)
            Button(action: onOpenOfflineSales) {
                Text("\(state.pendingSales) vendas · \(state.pendingNotes) notas").foregroundColor(.white)
                if state.badge > 0 { Text("\(state.badge)").padding(4).background(Circle().fill(Color.red)).foregroundColor(.white) }
            }
            if let d = state.deadline {
                Text("Prazo: \(countdownText(d.left))").foregroundColor(d.overdue || d.alarm == .urgent ? .yellow : .white)
            }
            if state.notesNeedingCorrection > 0 { Text("\(state.notesNeedingCorrection) a corrigir").foregroundColor(.yellow) }
            if case .needsAttention(let reason) = state.printer { Text("Impressora: \(reason)").foregroundColor(.yellow) }
            Spacer()
            if state.offersContingency { Button("Entrar em contingência", action: onEnterContingency).buttonStyle(.borderedProminent) }
        }
        .padding(.horizontal, 12).padding(.vertical, 6)
        .background(color(state))
    }

    private func label(_ s: StatusBarState) -> String {
        switch s.mode {
        case .normal: return s.link == .online ? "Online" : "Sem internet"
        case .contingencyRequired: return "SEFAZ fora do ar"
        case .contingency: return "Contingência"
        case .draining: return "Enviando notas"
        }
    }

    private func color(_ s: StatusBarState) -> Color {
        switch (s.mode, s.link) {
        case (.contingencyRequired, _): return .red
        case (.contingency, _): return .orange
        case (_, .offline): return .brown
        default: return .green
        }
    }
}
