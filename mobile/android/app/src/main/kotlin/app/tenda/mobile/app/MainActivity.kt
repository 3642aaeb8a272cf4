package app.tenda.mobile.app

import android.Manifest
import android.os.Bundle
import android.view.KeyEvent
import androidx.activity.ComponentActivity
import androidx.activity.compose.setContent
import androidx.activity.result.contract.ActivityResultContracts
import androidx.activity.viewModels
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Surface
import androidx.compose.runtime.getValue
import androidx.compose.ui.Modifier
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import app.tenda.mobile.app.ui.ContingencyScreen
import app.tenda.mobile.app.ui.CounterScreen
import app.tenda.mobile.app.ui.OfflineSalesScreen
import app.tenda.mobile.app.ui.OpenRegisterScreen
import app.tenda.mobile.app.ui.PaymentScreen
import app.tenda.mobile.app.ui.ReceiptScreen
import app.tenda.mobile.app.ui.SignInScreen
import app.tenda.mobile.app.ui.StatusBar
import app.tenda.mobile.core.presenter.CounterEvent

class MainActivity : ComponentActivity() {
    private val shift: ShiftViewModel by viewModels()

    private val permissions = registerForActivityResult(ActivityResultContracts.RequestMultiplePermissions()) { }

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        permissions.launch(arrayOf(Manifest.permission.CAMERA, Manifest.permission.BLUETOOTH_CONNECT, Manifest.permission.BLUETOOTH_SCAN))
        setContent {
            MaterialTheme {
                Surface(Modifier.fillMaxSize()) {
                    val screen by shift.screen.collectAsStateWithLifecycle()
                    Column {
                        StatusBar(shift.statusBar, onEnterContingency = shift::showContingency, onOpenOfflineSales = shift::showOfflineSales)
                        when (val s = screen) {
                            is Screen.SignIn -> SignInScreen(s.presenter, onSignedIn = shift::showOpenRegister)
                            is Screen.OpenRegister -> OpenRegisterScreen(s.presenter, onOpen = shift::showCounter)
                            is Screen.Counter -> CounterScreen(s.presenter, onPay = shift::showPayment)
                            is Screen.Payment -> PaymentScreen(s.presenter, onPaid = shift::showReceipt, onBack = shift::showCounter)
                            is Screen.Receipt -> ReceiptScreen(s.presenter, onNextSale = shift::showCounter)
                            is Screen.Contingency -> ContingencyScreen(s.presenter, onDone = shift::showCounter)
                            is Screen.OfflineSales -> OfflineSalesScreen(s.presenter, onBack = shift::showCounter)
                        }
                    }
                }
            }
        }
    }

    /**
     * A Bluetooth barcode scanner pairs as a keyboard: its keystrokes arrive here, digit by digit
     * and then Enter, and go to the counter whatever has focus.
     */
    override fun dispatchKeyEvent(event: KeyEvent): Boolean {
        val counter = shift.screen.value as? Screen.Counter
        if (counter != null && event.action == KeyEvent.ACTION_DOWN && event.device?.isVirtual == false) {
            val key = if (event.keyCode == KeyEvent.KEYCODE_ENTER) '\n' else event.unicodeChar.toChar()
            if (key != '\u0000') {
                counter.presenter.handle(CounterEvent.ScannerKey(key))
                return true
            }
        }
        return super.dispatchKeyEvent(event)
    }
}
