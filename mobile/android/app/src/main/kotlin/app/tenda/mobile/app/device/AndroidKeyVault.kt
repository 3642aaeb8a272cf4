package app.tenda.mobile.app.device

import android.content.Context
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import java.io.File
import java.security.KeyStore
import tenda.pos.KeyStore as HostKeyStore
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec
import tenda.pos.TendaException

/**
 * The database key kept under the Android Keystore. The 32 random bytes the core generates are
 * sealed with an AES-256-GCM key that never leaves the Keystore (hardware-backed where the device
 * has it) and written to the app's no-backup directory. A restored backup therefore never opens
 * the store on another phone. Any Keystore failure reaches the core as a typed keystore error.
 */
class AndroidKeyVault(context: Context) : HostKeyStore {
    private val directory = File(context.noBackupFilesDir, "tenda-keys").apply { mkdirs() }

    override fun load(account: String): ByteArray? = guarded {
        val file = sealedFile(account)
        if (!file.exists()) return@guarded null
        val sealed = file.readBytes()
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.DECRYPT_MODE, wrappingKey(account), GCMParameterSpec(TAG_BITS, sealed, 0, IV_BYTES))
        cipher.doFinal(sealed, IV_BYTES, sealed.size - IV_BYTES)
    }

    override fun save(account: String, key: ByteArray) = guarded {
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.ENCRYPT_MODE, wrappingKey(account))
        val sealed = cipher.iv + cipher.doFinal(key)
        // Write beside, then rename: a crash never leaves half a key.
        val file = sealedFile(account)
        val partial = File(file.path + ".partial")
        partial.writeBytes(sealed)
        check(partial.renameTo(file)) { "could not move the sealed key into place" }
    }

    private fun sealedFile(account: String) = File(directory, account.filter { it.isLetterOrDigit() || it in "._-" } + ".sealed")

    private fun wrappingKey(account: String): SecretKey {
        val alias = "tenda.ffi.db-key.$account"
        val store = KeyStore.getInstance(ANDROID_KEYSTORE).apply { load(null) }
        (store.getKey(alias, null) as? SecretKey)?.let { return it }
        val generator = KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, ANDROID_KEYSTORE)
        generator.init(
            KeyGenParameterSpec.Builder(alias, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
                .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
                .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
                .setKeySize(256)
                .build(),
        )
        return generator.generateKey()
    }

    private inline fun <T> guarded(body: () -> T): T = try {
        body()
    } catch (e: Exception) {
        throw TendaException.Keystore("Android Keystore: ${e.javaClass.simpleName}: ${e.message}")
    }

    private companion object {
        const val ANDROID_KEYSTORE = "AndroidKeyStore"
        const val TRANSFORMATION = "AES/GCM/NoPadding"
        const val IV_BYTES = 12
        const val TAG_BITS = 128
    }
}
