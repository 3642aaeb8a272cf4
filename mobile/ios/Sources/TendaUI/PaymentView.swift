import SwiftUI
import TendaCore

public struct PaymentView: View {
    @ObservedObject var presenter: PaymentPresenter
    let onPaid: (SaleOutcome) -> Void
    let onBack: () -> Void

    public var body: some View {
        let state = presenter.state
        let entering = state.phase == .entering
        VStack(alignment: .leading, spacing: 12) {
            Text("Total \(state.total.formatted)").font(.title2)
            ForEach(Array(state.entered.enumerated()), id: \.offset) { _, p in Text("\(kind(p)) \(p.amount.formatted)") }
            Text("Falta \(state.remaining.formatted)").font(.headline)
            TextField("Dinheiro recebido", text: Binding(get: { state.tenderedText }, set: { presenter.handle(.tenderedChanged($0)) }))
                .keyboardType(.decimalPad).textFieldStyle(.roundedBorder)
            if let change = state.changePreview { Text("Troco \(change.formatted)") }
            HStack {
                Button("Dinheiro") { presenter.handle(.payCash) }.disabled(!entering)
                Button("Débito") { presenter.handle(.payCard(.debit)) }.disabled(!entering)
                Button("Crédito") { presenter.handle(.payCard(.credit)) }.disabled(!entering)
            }.buttonStyle(.borderedProminent)
            HStack {
                // Pressable offline too: the core refuses PIX and its refusal says why.
                Button("PIX") { presenter.handle(.payPix) }.disabled(!entering)
                Button(state.customer.map { "Conta de \($0.name)" } ?? "Conta do cliente") { presenter.handle(.payOnAccount) }
                    .disabled(!entering || !state.canPayOnAccount)
            }.buttonStyle(.bordered)
            if let reason = state.pixUnavailable { Text("PIX indisponível: \(reason)").font(.caption) }
            if state.phase == .charging || state.phase == .loading { ProgressView() }
            FailureBanner(failure: state.failure) { presenter.handle(.dismissFailure) }
            Button("Voltar aos itens", action: onBack).disabled(!entering)
        }
        .padding(16)
        .onChange(of: state.phase) { phase in if case .paid(let outcome) = phase { onPaid(outcome) } }
        .alert(riskTitle(state.riskPrompt), isPresented: Binding(get: { state.riskPrompt != nil }, set: { if !$0 { presenter.handle(.declineCardRisk) } })) {
            if state.riskPrompt?.risk.allowed == true { Button("Aceitar o risco") { presenter.handle(.acceptCardRisk) } }
            Button("Voltar", role: .cancel) { presenter.handle(.declineCardRisk) }
        } message: {
            if let risk = state.riskPrompt?.risk {
                Text("\(risk.notice)\nLimite por pagamento: \(risk.perPaymentLimit.formatted)\nPendentes: \(risk.pendingCount) (\(risk.pendingTotal.formatted) de \(risk.totalPendingLimit.formatted))"
                     + (risk.refusal.map { "\n\nNão permitido: \($0)" } ?? ""))
            }
        }
    }

    private func riskTitle(_ prompt: CardRiskPrompt?) -> String { "Cartão sem internet: \(prompt?.amount.formatted ?? "")" }

    private func kind(_ p: PaymentRequest) -> String {
        switch p { case .cash: return "Dinheiro"; case .card: return "Cartão"; case .pix: return "PIX"; case .customerAccount: return "Conta do cliente" }
    }
}
