import Foundation

public struct ReceiptState: Equatable {
    public let sale: SaleOutcome
    public var preview: ReceiptPreview?
    public var printing = false
    public var printed: Bool
    public var printError: String?
    public var failure: PosFailure?
}

public enum ReceiptEvent { case print, dismissFailure }

/// Mirrors the Kotlin `ReceiptPresenter`.
@MainActor public final class ReceiptPresenter: ObservableObject {
    @Published public private(set) var state: ReceiptState
    private let repository: PosRepository

    public init(repository: PosRepository, sale: SaleOutcome) {
        self.repository = repository
        state = ReceiptState(sale: sale, printed: sale.printed, printError: sale.printError)
        Task {
            switch await repository.receiptPreview(saleId: sale.saleId) {
            case .success(let p): state.preview = p
            case .failure(let f): state.failure = f
            }
        }
    }

    public func handle(_ event: ReceiptEvent) {
        switch event {
        case .dismissFailure: state.failure = nil
        case .print:
            guard !state.printing else { return }
            state.printing = true
            Task {
                switch await repository.reprint(saleId: state.sale.saleId) {
                case .success(let o): state.printing = false; state.printed = o.printed; state.printError = o.printError
                case .failure(let f): state.printing = false; state.failure = f
                }
            }
        }
    }
}
