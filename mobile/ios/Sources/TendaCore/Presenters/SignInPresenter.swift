import Foundation
import Tenda

public struct SignInState: Equatable {
    public var login = ""
    public var pinLength = 0
    public var phase: SignInPhase = .idle
    public var canSubmit: Bool {
        guard !login.trimmingCharacters(in: .whitespaces).isEmpty, pinLength > 0 else { return false }
        switch phase { case .idle, .wrongPin, .failed: return true; default: return false }
    }
}

public enum SignInPhase: Equatable {
    case idle, checking
    case wrongPin(remainingAttempts: Int)
    case lockedOut(until: Date, secondsLeft: Int64)
    case failed(PosFailure)
    case signedIn(Operator)
}

public enum SignInEvent { case loginChanged(String), pinDigit(Character), pinBackspace, submit }

/// Mirrors the Kotlin `SignInPresenter`.
@MainActor public final class SignInPresenter: ObservableObject {
    @Published public private(set) var state = SignInState()
    private let repository: PosRepository
    private let clock: Clock
    private var pin = PinEntry()
    private var countdown: Task<Void, Never>?

    public init(repository: PosRepository, clock: Clock) { self.repository = repository; self.clock = clock }

    public func handle(_ event: SignInEvent) {
        switch event {
        case .loginChanged(let login):
            countdown?.cancel(); pin.clear(); state = SignInState(login: login)
        case .pinDigit(let d): typed { $0.type(d) }
        case .pinBackspace: typed { $0.erase() }
        case .submit: submit()
        }
    }

    private func typed(_ edit: (inout PinEntry) -> Void) {
        if case .lockedOut = state.phase { return }
        if state.phase == .checking { return }
        edit(&pin); state.pinLength = pin.length
    }

    private func submit() {
        guard state.canSubmit else { return }
        let login = state.login.trimmingCharacters(in: .whitespaces), secret = pin.value
        state.phase = .checking
        Task {
            let result = await repository.signIn(login: login, pin: secret)
            pin.clear(); state.pinLength = 0
            switch result {
            case .success(let op): state.phase = .signedIn(op)
            case .failure(.wrongCredentials(let left)): state.phase = .wrongPin(remainingAttempts: left)
            case .failure(.lockedOut(let until)): lockedOut(until)
            case .failure(let f): state.phase = .failed(f)
            }
        }
    }

    private func lockedOut(_ until: Date) {
        countdown?.cancel()
        state.phase = .lockedOut(until: until, secondsLeft: secondsLeft(clock.now(), until))
        countdown = Task {
            for await now in clock.ticks(every: 1) {
                if Task.isCancelled { return }
                if now >= until { break }
                state.phase = .lockedOut(until: until, secondsLeft: secondsLeft(now, until))
            }
            if !Task.isCancelled { state.phase = .idle }
        }
    }

    /// Whole seconds left, rounded up (the core's `seconds_left`, shared with the Android app).
    private func secondsLeft(_ now: Date, _ until: Date) -> Int64 {
        Int64(Tenda.secondsLeft(now: Int64((now.timeIntervalSince1970 * 1000).rounded()), until: Int64((until.timeIntervalSince1970 * 1000).rounded())))
    }
}
