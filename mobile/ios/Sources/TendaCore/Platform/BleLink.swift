import CoreBluetooth
import Foundation
import Tenda

/// A byte link to a BLE printer or card reader over CoreBluetooth. The core calls it from its own
/// blocking threads, so each call waits (on a semaphore) for the delegate callback it started;
/// delegate callbacks arrive on a private queue, never the main one.
public final class BleLink: NSObject, PeripheralLink, CBCentralManagerDelegate, CBPeripheralDelegate {
    private static let known: [(CBUUID, CBUUID)] = [
        (CBUUID(string: "18F0"), CBUUID(string: "2AF1")),
        (CBUUID(string: "E7810A71-73AE-499D-8C15-FAA9AEF0C3F2"), CBUUID(string: "BEF8D6C9-9C21-4C9E-B632-BD58C1009F9F")),
        (CBUUID(string: "49535343-FE7D-4AE5-8FA9-9FAFD205E455"), CBUUID(string: "49535343-8841-43F4-A8D4-ECBE34729BB3")),
    ]
    private let queue = DispatchQueue(label: "app.tenda.ble")
    private let identifier: UUID
    private let device: String
    private lazy var central = CBCentralManager(delegate: self, queue: queue)
    private var peripheral: CBPeripheral?
    private var characteristic: CBCharacteristic?
    private let poweredOn = DispatchSemaphore(value: 0)
    private let connected = DispatchSemaphore(value: 0)
    private let discovered = DispatchSemaphore(value: 0)
    private let written = DispatchSemaphore(value: 0)
    private let readyToSend = DispatchSemaphore(value: 0)
    private var writeError: Error?
    private var received: [Data] = []
    private let receivedSignal = DispatchSemaphore(value: 0)

    /// `identifier` is the peripheral remembered when the seller paired it.
    public init(identifier: UUID, device: String) { self.identifier = identifier; self.device = device }

    /// Opens the link; returns the ATT MTU (each write carries at most MTU − 3 bytes).
    public func connect() throws -> UInt16 {
        disconnect()
        _ = central
        if central.state != .poweredOn { try wait(poweredOn, "Bluetooth is off") }
        guard let p = central.retrievePeripherals(withIdentifiers: [identifier]).first else {
            throw TendaError.Peripheral(device: device, reason: "not paired with this phone")
        }
        peripheral = p
        p.delegate = self
        central.connect(p)
        try wait(connected, "did not connect")
        p.discoverServices(Self.known.map { $0.0 })
        try wait(discovered, "is not a printer or reader this app knows")
        guard let c = characteristic else { throw TendaError.Peripheral(device: device, reason: "no writable characteristic") }
        if c.properties.contains(.notify) { p.setNotifyValue(true, for: c) }
        let mtu = p.maximumWriteValueLength(for: acknowledgesWrites() ? .withResponse : .withoutResponse) + 3
        return UInt16(min(mtu, 512))
    }

    public func acknowledgesWrites() -> Bool { !(characteristic?.properties.contains(.writeWithoutResponse) ?? false) }

    public func canRead() -> Bool { characteristic?.properties.contains(.notify) ?? false }

    public func disconnect() {
        if let p = peripheral { central.cancelPeripheralConnection(p) }
        peripheral = nil; characteristic = nil
        queue.sync { received.removeAll() }
    }

    public func write(chunk: Data) throws {
        guard let p = peripheral, let c = characteristic else { throw TendaError.Peripheral(device: device, reason: "not connected") }
        if c.properties.contains(.writeWithoutResponse) {
            // Pace unacknowledged writes by CoreBluetooth's own flow control.
            while !p.canSendWriteWithoutResponse { try wait(readyToSend, "stopped taking data") }
            p.writeValue(chunk, for: c, type: .withoutResponse)
        } else {
            p.writeValue(chunk, for: c, type: .withResponse)
            try wait(written, "did not acknowledge the data")
            if let e = writeError { throw TendaError.Peripheral(device: device, reason: e.localizedDescription) }
        }
    }

    public func read(timeoutMs: UInt64) throws -> Data? {
        guard receivedSignal.wait(timeout: .now() + .milliseconds(Int(min(timeoutMs, 60_000)))) == .success else { return nil }
        return queue.sync { received.isEmpty ? nil : received.removeFirst() }
    }

    private func wait(_ s: DispatchSemaphore, _ what: String) throws {
        guard s.wait(timeout: .now() + 10) == .success else { throw TendaError.Peripheral(device: device, reason: "\(what) within 10 s") }
    }

    public func centralManagerDidUpdateState(_ central: CBCentralManager) { if central.state == .poweredOn { poweredOn.signal() } }
    public func centralManager(_ central: CBCentralManager, didConnect peripheral: CBPeripheral) { connected.signal() }
    public func peripheral(_ peripheral: CBPeripheral, didDiscoverServices error: Error?) {
        for service in peripheral.services ?? [] {
            if let pair = Self.known.first(where: { $0.0 == service.uuid }) {
                peripheral.discoverCharacteristics([pair.1], for: service)
                return
            }
        }
        discovered.signal()
    }
    public func peripheral(_ peripheral: CBPeripheral, didDiscoverCharacteristicsFor service: CBService, error: Error?) {
        characteristic = service.characteristics?.first
        discovered.signal()
    }
    public func peripheral(_ peripheral: CBPeripheral, didWriteValueFor characteristic: CBCharacteristic, error: Error?) {
        writeError = error; written.signal()
    }
    public func peripheralIsReady(toSendWriteWithoutResponse peripheral: CBPeripheral) { readyToSend.signal() }
    public func peripheral(_ peripheral: CBPeripheral, didUpdateValueFor characteristic: CBCharacteristic, error: Error?) {
        if let value = characteristic.value { received.append(value); receivedSignal.signal() }
    }
}
