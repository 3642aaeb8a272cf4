import Foundation
import Tenda

public struct ContingencyState: Equatable {
    public var mode: SefazMode = .normal
    public var justification = ""
    public var login = ""
    public var pinLength = 0
    public var submitting = false
    public var entered = false
    public var failure: PosFailure?
    public var canSubmit: Bool {
        !justification.trimmingCharacters(in: .whitespaces).isEmpty && !login.trimmingCharacters(in: .whitespaces).isEmpty
            && pinLength > 0 && !submitting && !entered
    }
    /// Characters the core counts: after trimming, each code point once.
    public var justificationChars: Int { justification.trimmingCharacters(in: .whitespacesAndNewlines).unicodeScalars.count }
    /// The lengths the core accepts (SEFAZ's `xJust`), shown beside the field.
    public var justificationBounds: ClosedRange<Int> {
        let b = Tenda.contingencyJustificationBounds()
        return Int(b.minChars)...Int(b.maxChars)
    }
}

public enum ContingencyEvent { case justificationChanged(String), loginChanged(String), pinDigit(Character), pinBackspace, submit }

/// Mirrors the Kotlin `ContingencyPresenter`.
@MainActor public final class ContingencyPresenter: ObservableObject {
    @Published public private(set) var state = ContingencyState()
    private let repository: PosRepository
    private var pin = PinEntry()
    private var statusTask: Task<Void, Never>?

    public init(repository: PosRepository) {
        self.repository = repository
        statusTask = Task {
            for await s in repository.statusUpdates() {
                state.mode = s.sefaz
                state.entered = state.entered || s.sefaz == .contingency
            }
        }
    }

    deinit { statusTask?.cancel() }

    public func handle(_ event: ContingencyEvent) {
        guard !state.submitting else { return }
        switch event {
        case .justificationChanged(let t): state.justification = t
        case .loginChanged(let l): state.login = l
        case .pinDigit(let d): pin.type(d); state.pinLength = pin.length
        case .pinBackspace: pin.erase(); state.pinLength = pin.length
        case .submit:
            guard state.canSubmit else { return }
            let approval = Approval(login: state.login.trimmingCharacters(in: .whitespaces), secret: pin.value)
            let justification = state.justification.trimmingCharacters(in: .whitespaces)
            state.submitting = true; state.failure = nil
            Task {
                let result = await repository.enterContingency(justification: justification, approval: approval)
                pin.clear(); state.submitting = false; state.pinLength = 0
                switch result {
                case .success: state.entered = true
                case .failure(let f): state.failure = f
                }
            }
        }
    }
}
