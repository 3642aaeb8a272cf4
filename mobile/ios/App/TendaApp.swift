// The iOS app's entry point: add this file to an Xcode iOS app target that depends on the
// TendaUI and TendaCore products of ../Package.swift (see mobile/README.md).
import SwiftUI
import TendaCore
import TendaUI

@main
struct TendaApp: App {
    @State private var shift: Shift?
    @State private var failure: PosFailure?

    var body: some Scene {
        WindowGroup {
            Group {
                if let shift { ShiftView(shift: shift) }
                else if let failure { Text("Não foi possível abrir o caixa (\(failure.code)).").padding() }
                else { ProgressView() }
            }
            .task {
                let path = FileManager.default.urls(for: .applicationSupportDirectory, in: .userDomainMask)[0]
                try? FileManager.default.createDirectory(at: path, withIntermediateDirectories: true)
                switch await FfiPosRepository.open(dbPath: path.appendingPathComponent("tenda.db").path,
                                                   vault: KeychainKeyVault(), keyAccount: "device") {
                case .success(let repository): shift = await Shift(repository: repository)
                case .failure(let f): failure = f
                }
            }
        }
    }
}
