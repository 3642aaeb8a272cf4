import Foundation
import Tenda

public struct CardRiskPrompt: Equatable { public let kind: CardKind; public let amount: Money; public let risk: CardOfflineRisk }

public enum PaymentPhase: Equatable { case loading, entering, charging, paid(SaleOutcome) }

public struct PaymentState: Equatable {
    public var total = Money.zero
    public var entered: [PaymentRequest] = []
    public var tenderedText = ""
    public var customer: Customer?
    public var pixUnavailable: String?
    public var offline = false
    public var riskPrompt: CardRiskPrompt?
    public var phase: PaymentPhase = .loading
    public var failure: PosFailure?

    /// What is left to pay and the change for the cash typed, as the core computes them.
    private var due: Tenda.PaymentDue {
        do { return try Tenda.paymentDue(total: total.centavos, entered: entered.map { $0.amount.centavos }, tendered: tendered?.centavos) }
        catch { preconditionFailure("money overflow: \(error)") }
    }
    public var remaining: Money { Money(due.remaining) }
    public var tendered: Money? { Money.parse(tenderedText) }
    public var changePreview: Money? { due.change.map(Money.init) }
    public var canPayOnAccount: Bool { customer != nil }
}

public enum PaymentEvent {
    case tenderedChanged(String), payCash, payCard(CardKind), acceptCardRisk, declineCardRisk, payPix, payOnAccount, dismissFailure
}

/// Mirrors the Kotlin `PaymentPresenter`.
@MainActor public final class PaymentPresenter: ObservableObject {
    @Published public private(set) var state = PaymentState()
    private let repository: PosRepository
    private var statusTask: Task<Void, Never>?

    public init(repository: PosRepository) {
        self.repository = repository
        Task {
            switch await repository.ticket() {
            case .success(let t): state.total = t.total; state.customer = t.customer; state.phase = .entering
            case .failure(let f): state.phase = .entering; state.failure = f
            }
        }
        statusTask = Task {
            for await status in repository.statusUpdates() {
                state.offline = status.link == .offline
                state.pixUnavailable = status.unavailableReason(Features.pix)
            }
        }
    }

    deinit { statusTask?.cancel() }

    public func handle(_ event: PaymentEvent) {
        guard state.phase == .entering else { return }
        let s = state
        switch event {
        case .tenderedChanged(let text): state.tenderedText = text
        case .payCash:
            guard let tendered = s.tendered, tendered.isPositive else {
                state.failure = .invalidInput(field: "tendered", reason: "type the cash handed over"); return
            }
            if tendered < s.remaining {
                state.entered.append(.cash(amount: tendered, tendered: tendered)); state.tenderedText = ""
            } else {
                checkout(s.entered + [.cash(amount: s.remaining, tendered: tendered)])
            }
        case .payCard(let kind):
            let amount = s.remaining
            guard s.offline else { checkout(s.entered + [.card(amount: amount, kind: kind)]); return }
            state.phase = .charging
            Task {
                switch await repository.cardOfflineRisk(amount: amount) {
                case .success(let risk): state.phase = .entering; state.riskPrompt = CardRiskPrompt(kind: kind, amount: amount, risk: risk)
                case .failure(let f): state.phase = .entering; state.failure = f
                }
            }
        case .acceptCardRisk:
            guard let prompt = s.riskPrompt, prompt.risk.allowed else { return }
            state.phase = .charging; state.riskPrompt = nil
            Task {
                switch await repository.acceptCardOfflineRisk() {
                case .success: await charge(s.entered + [.card(amount: prompt.amount, kind: prompt.kind)])
                case .failure(let f): state.phase = .entering; state.failure = f
                }
            }
        case .declineCardRisk: state.riskPrompt = nil
        case .payPix: checkout(s.entered + [.pix(amount: s.remaining, txid: nil)])
        case .payOnAccount: checkout(s.entered + [.customerAccount(amount: s.remaining)])
        case .dismissFailure: state.failure = nil
        }
    }

    private func checkout(_ payments: [PaymentRequest]) {
        state.phase = .charging; state.failure = nil
        Task { await charge(payments) }
    }

    private func charge(_ payments: [PaymentRequest]) async {
        switch await repository.checkout(payments: payments) {
        case .success(let outcome): state.phase = .paid(outcome)
        case .failure(let f): state.phase = .entering; state.failure = f
        }
    }
}
