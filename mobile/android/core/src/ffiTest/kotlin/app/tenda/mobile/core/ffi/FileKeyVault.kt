package app.tenda.mobile.core.ffi

import java.io.File
import tenda.pos.KeyStore
import tenda.pos.TendaException

/**
 * The host key vault for JVM tests: the key in a file beside the database. (The apps use the
 * Android Keystore and the iOS Keychain, behind the same foreign trait.)
 */
internal class FileKeyVault(private val dir: File) : KeyStore {
    override fun load(account: String): ByteArray? = File(dir, "$account.key").takeIf { it.exists() }?.readBytes()

    override fun save(account: String, key: ByteArray) = File(dir, "$account.key").writeBytes(key)
}

/** A keystore that refuses, as a locked or wiped Keystore does. */
internal class RefusingKeyVault : KeyStore {
    override fun load(account: String): ByteArray? = throw TendaException.Keystore("the keystore is locked")

    override fun save(account: String, key: ByteArray) = throw TendaException.Keystore("the keystore is locked")
}

/** A host vault with a bug: it throws something that is not a TendaException. */
internal class CrashingKeyVault : KeyStore {
    override fun load(account: String): ByteArray? = throw IllegalStateException("keystore bug")

    override fun save(account: String, key: ByteArray) = throw IllegalStateException("keystore bug")
}
