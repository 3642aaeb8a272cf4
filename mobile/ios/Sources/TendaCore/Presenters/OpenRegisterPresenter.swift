import Foundation

public struct OpenRegisterState: Equatable {
    public var checking = true
    public var open = false
    public var floatText = ""
    public var submitting = false
    public var failure: PosFailure?
    public var float: Money? { Money.parse(floatText) }
    public var canSubmit: Bool { !checking && !open && !submitting && float != nil }
}

public enum OpenRegisterEvent { case floatChanged(String), submit }

/// Mirrors the Kotlin `OpenRegisterPresenter`.
@MainActor public final class OpenRegisterPresenter: ObservableObject {
    @Published public private(set) var state = OpenRegisterState()
    private let repository: PosRepository

    public init(repository: PosRepository) {
        self.repository = repository
        Task {
            switch await repository.registerIsOpen() {
            case .success(let open): state.checking = false; state.open = open
            case .failure(let f): state.checking = false; state.failure = f
            }
        }
    }

    public func handle(_ event: OpenRegisterEvent) {
        switch event {
        case .floatChanged(let text): state.floatText = text
        case .submit:
            guard state.canSubmit, let float = state.float else { return }
            state.submitting = true; state.failure = nil
            Task {
                switch await repository.openRegister(float: float) {
                case .success: state.submitting = false; state.open = true
                case .failure(let f): state.submitting = false; state.failure = f
                }
            }
        }
    }
}
