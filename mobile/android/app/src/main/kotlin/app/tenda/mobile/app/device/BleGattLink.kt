package app.tenda.mobile.app.device

import android.annotation.SuppressLint
import android.bluetooth.BluetoothDevice
import android.bluetooth.BluetoothGatt
import android.bluetooth.BluetoothGattCallback
import android.bluetooth.BluetoothGattCharacteristic
import android.bluetooth.BluetoothGattDescriptor
import android.bluetooth.BluetoothProfile
import android.content.Context
import android.os.Build
import java.util.UUID
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.Semaphore
import java.util.concurrent.TimeUnit
import tenda.pos.PeripheralLink
import tenda.pos.TendaException

/**
 * A byte link to a BLE receipt printer or card reader over the phone's own Bluetooth stack. The
 * core calls it from its blocking threads (never the main thread), so each call waits for the
 * GATT callback it started. Writes use the characteristic's own mode: acknowledged writes wait
 * for their callback; unacknowledged ones are paced by the same callback (Android reports it once
 * the chunk left the controller's queue), which keeps cheap printers' buffers from overflowing.
 */
@SuppressLint("MissingPermission") // MainActivity asks for BLUETOOTH_CONNECT before pairing.
class BleGattLink(
    private val context: Context,
    private val device: BluetoothDevice,
    private val role: Role,
) : PeripheralLink {
    enum class Role { PRINTER, CARD_READER }

    private var gatt: BluetoothGatt? = null
    private var writable: BluetoothGattCharacteristic? = null
    private var withResponse = false
    private var notifies = false
    private var mtu = DEFAULT_MTU
    private val connected = Semaphore(0)
    private val servicesFound = Semaphore(0)
    private val mtuChanged = Semaphore(0)
    private val written = Semaphore(0)
    @Volatile private var lastWriteStatus = BluetoothGatt.GATT_SUCCESS
    private val received = LinkedBlockingQueue<ByteArray>()

    private val callback = object : BluetoothGattCallback() {
        override fun onConnectionStateChange(g: BluetoothGatt, status: Int, newState: Int) {
            if (newState == BluetoothProfile.STATE_CONNECTED && status == BluetoothGatt.GATT_SUCCESS) connected.release()
        }

        override fun onServicesDiscovered(g: BluetoothGatt, status: Int) = servicesFound.release()

        override fun onMtuChanged(g: BluetoothGatt, newMtu: Int, status: Int) {
            if (status == BluetoothGatt.GATT_SUCCESS) mtu = newMtu
            mtuChanged.release()
        }

        override fun onCharacteristicWrite(g: BluetoothGatt, c: BluetoothGattCharacteristic, status: Int) {
            lastWriteStatus = status
            written.release()
        }

        override fun onCharacteristicChanged(g: BluetoothGatt, c: BluetoothGattCharacteristic, value: ByteArray) {
            received.put(value)
        }

        // Android 8–12 deliver notifications here instead.
        @Deprecated("Replaced on API 33 by the overload with the value")
        override fun onCharacteristicChanged(g: BluetoothGatt, c: BluetoothGattCharacteristic) {
            @Suppress("DEPRECATION")
            if (Build.VERSION.SDK_INT < 33) received.put(c.value)
        }
    }

    /** Opens the link; returns the ATT MTU (each write carries at most MTU − 3 bytes). */
    override fun connect(): UShort {
        disconnect()
        val g = device.connectGatt(context, false, callback, BluetoothDevice.TRANSPORT_LE)
            ?: throw TendaException.Peripheral(role.label(), "Bluetooth is off")
        gatt = g
        await(connected, "did not connect")
        check(g.discoverServices()) { "service discovery did not start" }
        await(servicesFound, "listed no services")
        val pair = KNOWN_SERVICES.firstNotNullOfOrNull { (service, characteristic) ->
            g.getService(service)?.getCharacteristic(characteristic)
        } ?: throw TendaException.Peripheral(role.label(), "not a printer or reader this app knows")
        writable = pair
        withResponse = pair.properties and BluetoothGattCharacteristic.PROPERTY_WRITE_NO_RESPONSE == 0
        if (g.requestMtu(WANTED_MTU)) await(mtuChanged, "did not answer the MTU request")
        notifies = pair.properties and BluetoothGattCharacteristic.PROPERTY_NOTIFY != 0
        if (notifies) enableNotifications(g, pair)
        return mtu.toUShort()
    }

    override fun acknowledgesWrites(): Boolean = withResponse

    override fun canRead(): Boolean = notifies

    override fun disconnect() {
        gatt?.let {
            it.disconnect()
            it.close()
        }
        gatt = null
        received.clear()
    }

    override fun write(chunk: ByteArray) {
        val g = gatt ?: throw TendaException.Peripheral(role.label(), "not connected")
        val c = writable ?: throw TendaException.Peripheral(role.label(), "not connected")
        val type = if (withResponse) BluetoothGattCharacteristic.WRITE_TYPE_DEFAULT else BluetoothGattCharacteristic.WRITE_TYPE_NO_RESPONSE
        val started = if (Build.VERSION.SDK_INT >= 33) {
            g.writeCharacteristic(c, chunk, type) == BluetoothGatt.GATT_SUCCESS
        } else {
            @Suppress("DEPRECATION")
            c.writeType = type
            @Suppress("DEPRECATION")
            c.value = chunk
            @Suppress("DEPRECATION")
            g.writeCharacteristic(c)
        }
        if (!started) throw TendaException.Peripheral(role.label(), "the write was refused (link busy or lost)")
        await(written, "did not take the data")
        if (lastWriteStatus != BluetoothGatt.GATT_SUCCESS) {
            throw TendaException.Peripheral(role.label(), "write failed with GATT status $lastWriteStatus")
        }
    }

    override fun read(timeoutMs: ULong): ByteArray? = received.poll(timeoutMs.toLong(), TimeUnit.MILLISECONDS)

    private fun enableNotifications(g: BluetoothGatt, c: BluetoothGattCharacteristic) {
        g.setCharacteristicNotification(c, true)
        val descriptor = c.getDescriptor(CLIENT_CONFIG) ?: return
        if (Build.VERSION.SDK_INT >= 33) {
            g.writeDescriptor(descriptor, BluetoothGattDescriptor.ENABLE_NOTIFICATION_VALUE)
        } else {
            @Suppress("DEPRECATION")
            descriptor.value = BluetoothGattDescriptor.ENABLE_NOTIFICATION_VALUE
            @Suppress("DEPRECATION")
            g.writeDescriptor(descriptor)
        }
    }

    private fun await(event: Semaphore, what: String) {
        if (!event.tryAcquire(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            throw TendaException.Peripheral(role.label(), "$what within $TIMEOUT_SECONDS s")
        }
    }

    private fun Role.label() = if (this == Role.PRINTER) "printer" else "card reader"

    private companion object {
        const val DEFAULT_MTU = 23
        const val WANTED_MTU = 185
        const val TIMEOUT_SECONDS = 10L
        val CLIENT_CONFIG: UUID = UUID.fromString("00002902-0000-1000-8000-00805f9b34fb")

        /** Service and characteristic pairs of common BLE thermal printers and readers. */
        val KNOWN_SERVICES = listOf(
            UUID.fromString("000018f0-0000-1000-8000-00805f9b34fb") to UUID.fromString("00002af1-0000-1000-8000-00805f9b34fb"),
            UUID.fromString("e7810a71-73ae-499d-8c15-faa9aef0c3f2") to UUID.fromString("bef8d6c9-9c21-4c9e-b632-bd58c1009f9f"),
            UUID.fromString("49535343-fe7d-4ae5-8fa9-9fafd205e455") to UUID.fromString("49535343-8841-43f4-a8d4-ecbe34729bb3"),
        )
    }
}
