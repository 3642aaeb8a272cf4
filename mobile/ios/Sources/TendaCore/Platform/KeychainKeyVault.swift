import Foundation
import Security
import Tenda

/// The database key in the iOS Keychain: this device only, readable after the first unlock (so
/// the sync engine works while the phone is locked in a drawer), never in backups.
public final class KeychainKeyVault: KeyStore {
    private let service: String
    public init(service: String = "app.tenda.mobile.db-key") { self.service = service }

    public func load(account: String) throws -> Data? {
        var query = base(account)
        query[kSecReturnData as String] = true
        query[kSecMatchLimit as String] = kSecMatchLimitOne
        var item: CFTypeRef?
        let status = SecItemCopyMatching(query as CFDictionary, &item)
        switch status {
        case errSecSuccess: return item as? Data
        case errSecItemNotFound: return nil
        default: throw TendaError.Keystore(detail: "Keychain read failed (OSStatus \(status))")
        }
    }

    public func save(account: String, key: Data) throws {
        var attributes = base(account)
        attributes[kSecValueData as String] = key
        attributes[kSecAttrAccessible as String] = kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly
        let status = SecItemAdd(attributes as CFDictionary, nil)
        guard status == errSecSuccess else {
            throw TendaError.Keystore(detail: "Keychain write failed (OSStatus \(status))")
        }
    }

    private func base(_ account: String) -> [String: Any] {
        [kSecClass as String: kSecClassGenericPassword, kSecAttrService as String: service, kSecAttrAccount as String: account]
    }
}
