package app.tenda.mobile.app

import android.app.Application
import app.tenda.mobile.app.device.AndroidKeyVault
import app.tenda.mobile.core.api.PosDispatchers
import app.tenda.mobile.core.api.PosRepository
import app.tenda.mobile.core.ffi.FfiPosRepository
import java.io.File
import kotlinx.coroutines.runBlocking

/** Opens the device's encrypted store once per process; every screen shares the repository. */
class TendaApplication : Application() {
    lateinit var repository: PosRepository
        private set

    override fun onCreate() {
        super.onCreate()
        System.setProperty("jna.nosys", "true")
        // Every screen needs the store: the process waits for it once, before the first screen.
        repository = runBlocking {
            FfiPosRepository.open(
                dbPath = File(noBackupFilesDir, "tenda.ffi.db").path,
                vault = AndroidKeyVault(this@TendaApplication),
                keyAccount = "device",
                dispatchers = PosDispatchers.DEFAULT,
            ).getOrThrow()
        }
    }
}
