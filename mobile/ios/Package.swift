// swift-tools-version:5.9
// The seller's iOS app over the Rust core: `Tenda` is the generated uniffi Swift (copied in by
// scripts/build-xcframework.sh), `TendaFFI` the xcframework with libtenda_ffi for device and
// simulator, `TendaCore` the repository, presenters and platform pieces (Keychain, CoreBluetooth),
// `TendaUI` the SwiftUI screens.
import PackageDescription

let package = Package(
    name: "TendaCore",
    platforms: [.iOS(.v16)],
    products: [
        .library(name: "TendaCore", targets: ["TendaCore"]),
        .library(name: "TendaUI", targets: ["TendaUI"]),
    ],
    targets: [
        .binaryTarget(name: "TendaFFI", path: "build/TendaFFI.xcframework"),
        .target(name: "Tenda", dependencies: ["TendaFFI"], path: "build/generated/Tenda"),
        .target(name: "TendaCore", dependencies: ["Tenda"]),
        .target(name: "TendaUI", dependencies: ["TendaCore"]),
        .testTarget(name: "TendaCoreTests", dependencies: ["TendaCore"]),
    ]
)
