import Foundation

public enum ScanSource: Equatable { case camera, scanner }

public enum GuardedAction: Equatable {
    case voidLine(line: Int)
    case lineDiscount(line: Int, discount: Discount?)
    case saleDiscount(discount: Discount?)
    case openRegister(float: Money)
}

public struct ApprovalDialog: Equatable {
    public var action: GuardedAction
    public var permission: String
    public var login = ""
    public var pinLength = 0
    public var checking = false
    public var failure: PosFailure?
    public var canConfirm: Bool { !login.trimmingCharacters(in: .whitespaces).isEmpty && pinLength > 0 && !checking }
}

public struct LastScan: Equatable { public let code: String; public let source: ScanSource }

public struct CounterState: Equatable {
    public var ticket = Ticket.empty
    public var query = ""
    public var results: [ProductView] = []
    public var approval: ApprovalDialog?
    public var failure: PosFailure?
    public var lastScan: LastScan?
    public var canPay: Bool { !ticket.isEmpty && approval == nil }
}

public enum CounterEvent {
    case scanned(code: String, source: ScanSource)
    case scannerKey(Character)
    case queryChanged(String)
    case addProduct(ProductView, quantityThousandths: Int64 = 1000)
    case setQuantity(line: Int, quantityThousandths: Int64)
    case voidLine(Int)
    case setLineDiscount(line: Int, discount: Discount?)
    case setSaleDiscount(Discount?)
    case approvalLoginChanged(String)
    case approvalPinDigit(Character)
    case approvalPinBackspace, approvalConfirm, approvalDismiss, dismissFailure, refresh
}

/// Mirrors the Kotlin `CounterPresenter`: a `forbidden` answer opens the manager's approval
/// dialog and the action is retried with the manager's credentials.
@MainActor public final class CounterPresenter: ObservableObject {
    @Published public private(set) var state = CounterState()
    private let repository: PosRepository
    private var scannerBuffer = ""
    private var approvalPin = PinEntry()
    private var search: Task<Void, Never>?
    /// Ticket changes run one after another, in the order the seller made them.
    private var lastChange: Task<Void, Never>?

    public init(repository: PosRepository) { self.repository = repository; handle(.refresh) }

    public func handle(_ event: CounterEvent) {
        switch event {
        case .scanned(let code, let source): scan(code, source)
        case .scannerKey(let key):
            if key == "\n" || key == "\r" { let code = scannerBuffer; scannerBuffer = ""; scan(code, .scanner) }
            else if !key.isNewline { scannerBuffer.append(key) }
        case .queryChanged(let text): query(text)
        case .addProduct(let p, let q): change { await $0.addProduct(product: p, quantityThousandths: q) }
        case .setQuantity(let line, let q): change { await $0.setQuantity(line: line, quantityThousandths: q) }
        case .voidLine(let line): guarded(.voidLine(line: line), approval: nil)
        case .setLineDiscount(let line, let d): guarded(.lineDiscount(line: line, discount: d), approval: nil)
        case .setSaleDiscount(let d): guarded(.saleDiscount(discount: d), approval: nil)
        case .approvalLoginChanged(let login): state.approval?.login = login
        case .approvalPinDigit(let d): approvalPinEdit { $0.type(d) }
        case .approvalPinBackspace: approvalPinEdit { $0.erase() }
        case .approvalConfirm:
            guard let dialog = state.approval, dialog.canConfirm else { return }
            state.approval?.checking = true; state.approval?.failure = nil
            guarded(dialog.action, approval: Approval(login: dialog.login.trimmingCharacters(in: .whitespaces), secret: approvalPin.value))
        case .approvalDismiss: approvalPin.clear(); state.approval = nil
        case .dismissFailure: state.failure = nil
        case .refresh: change { await $0.ticket() }
        }
    }

    private func scan(_ code: String, _ source: ScanSource) {
        let trimmed = code.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { return }
        change(onSuccess: { $0.lastScan = LastScan(code: trimmed, source: source); $0.query = ""; $0.results = [] }) {
            await $0.scan(code: trimmed)
        }
    }

    private func query(_ text: String) {
        state.query = text
        search?.cancel()
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.count >= 2 else { state.results = []; return }
        search = Task {
            let result = await repository.searchProducts(text: trimmed, limit: 30)
            guard !Task.isCancelled, state.query == text else { return }
            switch result {
            case .success(let found): state.results = found
            case .failure(let f): state.failure = f
            }
        }
    }

    private func guarded(_ action: GuardedAction, approval: Approval?) {
        let repository = self.repository
        serial {
            let result: Result<Ticket, PosFailure>
            switch action {
            case .voidLine(let line): result = await repository.voidLine(line: line, approval: approval)
            case .lineDiscount(let line, let d): result = await repository.setLineDiscount(line: line, discount: d, approval: approval)
            case .saleDiscount(let d): result = await repository.setSaleDiscount(discount: d, approval: approval)
            // Opened on its own screen, never from the counter.
            case .openRegister: result = .failure(.invalidState(action: "open register", reason: "not from the counter"))
            }
            self.approvalPin.clear()
            switch result {
            case .success(let ticket): self.state.ticket = ticket; self.state.approval = nil; self.state.failure = nil
            case .failure(.forbidden(let permission)) where approval == nil:
                self.state.approval = ApprovalDialog(action: action, permission: permission)
            case .failure(let f) where approval != nil && self.state.approval != nil:
                self.state.approval?.checking = false; self.state.approval?.pinLength = 0; self.state.approval?.failure = f
            case .failure(let f): self.state.failure = f
            }
        }
    }

    private func approvalPinEdit(_ edit: (inout PinEntry) -> Void) {
        guard let dialog = state.approval, !dialog.checking else { return }
        edit(&approvalPin); state.approval?.pinLength = approvalPin.length
    }

    private func change(onSuccess: @escaping (inout CounterState) -> Void = { _ in },
                        _ call: @escaping (PosRepository) async -> Result<Ticket, PosFailure>) {
        let repository = self.repository
        serial {
            switch await call(repository) {
            case .success(let ticket): self.state.ticket = ticket; self.state.failure = nil; onSuccess(&self.state)
            case .failure(let f): self.state.failure = f
            }
        }
    }

    private func serial(_ work: @escaping @MainActor () async -> Void) {
        let previous = lastChange
        lastChange = Task { await previous?.value; await work() }
    }
}
