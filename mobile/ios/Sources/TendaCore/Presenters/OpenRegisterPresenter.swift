import Foundation

public struct OpenRegisterState: Equatable {
    public var checking = true
    public var open = false
    public var floatText = ""
    public var submitting = false
    public var approval: ApprovalDialog?
    public var failure: PosFailure?
    public var float: Money? { Money.parse(floatText) }
    public var canSubmit: Bool { !checking && !open && !submitting && approval == nil && float != nil }
}

public enum OpenRegisterEvent {
    case floatChanged(String), submit
    case approvalLoginChanged(String), approvalPinDigit(Character), approvalPinBackspace, approvalConfirm, approvalDismiss
}

/// Mirrors the Kotlin `OpenRegisterPresenter`: a seller's float waits for a manager's approval.
@MainActor public final class OpenRegisterPresenter: ObservableObject {
    @Published public private(set) var state = OpenRegisterState()
    private let repository: PosRepository
    private var approvalPin = PinEntry()

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
            open(float, approval: nil)
        case .approvalLoginChanged(let login): state.approval?.login = login
        case .approvalPinDigit(let d): approvalPinEdit { $0.type(d) }
        case .approvalPinBackspace: approvalPinEdit { $0.erase() }
        case .approvalConfirm:
            guard let dialog = state.approval, dialog.canConfirm, case .openRegister(let float) = dialog.action else { return }
            state.approval?.checking = true; state.approval?.failure = nil
            open(float, approval: Approval(login: dialog.login.trimmingCharacters(in: .whitespaces), secret: approvalPin.value))
        case .approvalDismiss: approvalPin.clear(); state.approval = nil
        }
    }

    private func approvalPinEdit(_ edit: (inout PinEntry) -> Void) {
        guard let dialog = state.approval, !dialog.checking else { return }
        edit(&approvalPin); state.approval?.pinLength = approvalPin.length
    }

    private func open(_ float: Money, approval: Approval?) {
        state.submitting = true; state.failure = nil
        Task {
            let result = await repository.openRegister(float: float, approval: approval)
            approvalPin.clear(); state.submitting = false
            switch result {
            case .success: state.open = true; state.approval = nil
            case .failure(.forbidden(let permission)) where approval == nil:
                state.approval = ApprovalDialog(action: .openRegister(float: float), permission: permission)
            case .failure(let f) where approval != nil && state.approval != nil:
                state.approval?.checking = false; state.approval?.pinLength = 0; state.approval?.failure = f
            case .failure(let f): state.failure = f
            }
        }
    }
}
