import Foundation

public struct OfflineSaleRow: Equatable {
    public let sale: OfflineSale
    public let deadlineLeft: TimeInterval?
    public var overdue: Bool { (deadlineLeft ?? 1) <= 0 }
}

public struct OfflineSalesState: Equatable {
    public var loading = true
    public var rows: [OfflineSaleRow] = []
    public var syncing = false
    public var lastSync: SyncNowOutcome?
    public var failure: PosFailure?
}

public enum OfflineSalesEvent { case syncNow, reprint(saleId: String), dismissFailure }

/// Mirrors the Kotlin `OfflineSalesPresenter`: reloads when the pending counts change.
@MainActor public final class OfflineSalesPresenter: ObservableObject {
    @Published public private(set) var state = OfflineSalesState()
    private let repository: PosRepository
    private let clock: Clock
    private var sales: [OfflineSale] = []
    private var tasks: [Task<Void, Never>] = []

    public init(repository: PosRepository, clock: Clock) {
        self.repository = repository; self.clock = clock
        tasks.append(Task {
            var last: (Int64, Int)?
            for await s in repository.statusUpdates() where last.map({ $0 != (s.pendingSync, s.pendingNotes) }) ?? true {
                last = (s.pendingSync, s.pendingNotes)
                await reload()
            }
        })
        tasks.append(Task { for await now in clock.ticks(every: 1) { state.rows = rows(sales, now) } })
    }

    deinit { tasks.forEach { $0.cancel() } }

    public func handle(_ event: OfflineSalesEvent) {
        switch event {
        case .dismissFailure: state.failure = nil
        case .reprint(let id):
            Task { if case .failure(let f) = await repository.reprint(saleId: id) { state.failure = f } }
        case .syncNow:
            guard !state.syncing else { return }
            state.syncing = true
            Task {
                switch await repository.syncNow() {
                case .success(let o): state.syncing = false; state.lastSync = o
                case .failure(let f): state.syncing = false; state.failure = f
                }
            }
        }
    }

    private func reload() async {
        switch await repository.offlineSales() {
        case .success(let found): sales = found; state.loading = false; state.rows = rows(found, clock.now())
        case .failure(let f): state.loading = false; state.failure = f
        }
    }

    private func rows(_ sales: [OfflineSale], _ now: Date) -> [OfflineSaleRow] {
        sales.map { OfflineSaleRow(sale: $0, deadlineLeft: $0.note?.deadline?.timeIntervalSince(now)) }
    }
}
