import SwiftUI
import TendaCore

/// One seller's shift: the status bar over whichever screen is on show. Each screen's presenter
/// lives as long as the screen, like the Android `ShiftViewModel`.
@MainActor public final class Shift: ObservableObject {
    public enum Screen {
        case signIn(SignInPresenter), openRegister(OpenRegisterPresenter), counter(CounterPresenter), payment(PaymentPresenter), receipt(ReceiptPresenter)
        case contingency(ContingencyPresenter), offlineSales(OfflineSalesPresenter)
    }

    @Published public private(set) var screen: Screen
    public let statusBar: StatusBarPresenter
    private let repository: PosRepository
    private let clock: Clock

    public init(repository: PosRepository, clock: Clock = SystemClock()) {
        self.repository = repository; self.clock = clock
        statusBar = StatusBarPresenter(repository: repository, clock: clock)
        screen = .signIn(SignInPresenter(repository: repository, clock: clock))
    }

    func showOpenRegister() { screen = .openRegister(OpenRegisterPresenter(repository: repository)) }
    func showCounter() { screen = .counter(CounterPresenter(repository: repository)) }
    func showPayment() { screen = .payment(PaymentPresenter(repository: repository)) }
    func showReceipt(_ sale: SaleOutcome) { screen = .receipt(ReceiptPresenter(repository: repository, sale: sale)) }
    func showContingency() { screen = .contingency(ContingencyPresenter(repository: repository)) }
    func showOfflineSales() { screen = .offlineSales(OfflineSalesPresenter(repository: repository, clock: clock)) }
}

public struct ShiftView: View {
    @ObservedObject var shift: Shift
    public init(shift: Shift) { self.shift = shift }

    public var body: some View {
        VStack(spacing: 0) {
            StatusBarView(presenter: shift.statusBar, onEnterContingency: shift.showContingency, onOpenOfflineSales: shift.showOfflineSales)
            switch shift.screen {
            case .signIn(let p): SignInView(presenter: p, onSignedIn: shift.showOpenRegister)
            case .openRegister(let p): OpenRegisterView(presenter: p, onOpen: shift.showCounter)
            case .counter(let p):
                CounterView(presenter: p, onPay: shift.showPayment)
                    .background(KeyboardScannerView { p.handle(.scannerKey($0)) }.frame(width: 0, height: 0))
            case .payment(let p): PaymentView(presenter: p, onPaid: shift.showReceipt, onBack: shift.showCounter)
            case .receipt(let p): ReceiptView(presenter: p, onNextSale: shift.showCounter)
            case .contingency(let p): ContingencyView(presenter: p, onDone: shift.showCounter)
            case .offlineSales(let p): OfflineSalesView(presenter: p, onBack: shift.showCounter)
            }
        }
    }
}
