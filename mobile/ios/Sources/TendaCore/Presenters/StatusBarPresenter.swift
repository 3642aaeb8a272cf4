import Foundation

public struct DeadlineCountdown: Equatable {
    public let deadline: Date
    public let left: TimeInterval
    public let alarm: DeadlineAlarm?
    public var overdue: Bool { left <= 0 }
}

public struct StatusBarState: Equatable {
    public var link: LinkState = .offline
    public var mode: SefazMode = .normal
    public var pendingSales: Int64 = 0
    public var pendingNotes = 0
    public var notesNeedingCorrection = 0
    public var deadline: DeadlineCountdown?
    public var printer: PeripheralState = .notConfigured
    public var cardReader: PeripheralState = .notConfigured
    public var badge: Int64 { pendingSales + Int64(pendingNotes) }
    public var offersContingency: Bool { mode == .contingencyRequired }
}

/// Mirrors the Kotlin `StatusBarPresenter`: the core's status, with the deadline counting down.
@MainActor public final class StatusBarPresenter: ObservableObject {
    @Published public private(set) var state = StatusBarState()
    private var status = PosStatus.starting
    private var tasks: [Task<Void, Never>] = []

    public init(repository: PosRepository, clock: Clock) {
        status = repository.currentStatus
        tasks.append(Task { for await s in repository.statusUpdates() { status = s; state = Self.state(s, clock.now()) } })
        tasks.append(Task { for await now in clock.ticks(every: 1) { state = Self.state(status, now) } })
    }

    deinit { tasks.forEach { $0.cancel() } }

    private static func state(_ s: PosStatus, _ now: Date) -> StatusBarState {
        StatusBarState(
            link: s.link, mode: s.sefaz, pendingSales: s.pendingSync, pendingNotes: s.pendingNotes,
            notesNeedingCorrection: s.notesNeedingCorrection,
            deadline: s.nearestDeadline.map { DeadlineCountdown(deadline: $0, left: $0.timeIntervalSince(now), alarm: s.deadlineAlarm) },
            printer: s.printer, cardReader: s.cardReader)
    }
}
