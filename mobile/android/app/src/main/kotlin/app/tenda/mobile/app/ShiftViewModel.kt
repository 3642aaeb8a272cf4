package app.tenda.mobile.app

import android.app.Application
import androidx.lifecycle.AndroidViewModel
import androidx.lifecycle.viewModelScope
import app.tenda.mobile.core.api.SaleOutcome
import app.tenda.mobile.core.api.SystemClock
import app.tenda.mobile.core.presenter.ContingencyPresenter
import app.tenda.mobile.core.presenter.CounterPresenter
import app.tenda.mobile.core.presenter.OfflineSalesPresenter
import app.tenda.mobile.core.presenter.OpenRegisterPresenter
import app.tenda.mobile.core.presenter.PaymentPresenter
import app.tenda.mobile.core.presenter.ReceiptPresenter
import app.tenda.mobile.core.presenter.SignInPresenter
import app.tenda.mobile.core.presenter.StatusBarPresenter
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.cancel
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow

/** The screen on show and its presenter; a presenter lives exactly as long as its screen. */
sealed interface Screen {
    data class SignIn(val presenter: SignInPresenter) : Screen
    data class OpenRegister(val presenter: OpenRegisterPresenter) : Screen
    data class Counter(val presenter: CounterPresenter) : Screen
    data class Payment(val presenter: PaymentPresenter) : Screen
    data class Receipt(val presenter: ReceiptPresenter) : Screen
    data class Contingency(val presenter: ContingencyPresenter) : Screen
    data class OfflineSales(val presenter: OfflineSalesPresenter) : Screen
}

/** One seller's shift on this device: navigation between the core's presenters. */
class ShiftViewModel(application: Application) : AndroidViewModel(application) {
    private val repository = (application as TendaApplication).repository
    private var screenScope = newScreenScope()

    val statusBar = StatusBarPresenter(repository.status, SystemClock, viewModelScope)

    private val current = MutableStateFlow<Screen>(Screen.SignIn(SignInPresenter(repository, SystemClock, screenScope)))
    val screen: StateFlow<Screen> = current.asStateFlow()

    fun showOpenRegister() = show { Screen.OpenRegister(OpenRegisterPresenter(repository, it)) }
    fun showCounter() = show { Screen.Counter(CounterPresenter(repository, it)) }
    fun showPayment() = show { Screen.Payment(PaymentPresenter(repository, it)) }
    fun showReceipt(sale: SaleOutcome) = show { Screen.Receipt(ReceiptPresenter(repository, sale, it)) }
    fun showContingency() = show { Screen.Contingency(ContingencyPresenter(repository, it)) }
    fun showOfflineSales() = show { Screen.OfflineSales(OfflineSalesPresenter(repository, SystemClock, it)) }
    fun showSignIn() = show { Screen.SignIn(SignInPresenter(repository, SystemClock, it)) }

    private fun show(make: (CoroutineScope) -> Screen) {
        screenScope.cancel()
        screenScope = newScreenScope()
        current.value = make(screenScope)
    }

    private fun newScreenScope() = CoroutineScope(viewModelScope.coroutineContext + Job(viewModelScope.coroutineContext[Job]))
}
