#!/usr/bin/env bash
# Builds TendaFFI.xcframework (device arm64, simulator arm64 + x86_64) and the generated Swift
# bindings for Package.swift. Runs on a Mac with Xcode and rustup; there is no Swift toolchain on
# the Linux machines that run the rest of Tenda's tests.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
[ "$(uname)" = Darwin ] || { echo "build-xcframework: needs macOS with Xcode" >&2; exit 1; }

targets=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios)
rustup target add "${targets[@]}"
for t in "${targets[@]}"; do
  cargo build --release -p tenda-ffi --lib --target "$t"
done

build="$here/build"
rm -rf "$build" && mkdir -p "$build/generated/Tenda" "$build/headers" "$build/sim"
# Generate from the device library: the Swift source, the C header and the module map.
cargo run --release -p tenda-ffi --bin uniffi-bindgen -- generate \
  --library "target/aarch64-apple-ios/release/libtenda_ffi.a" --language swift \
  --config bindings/uniffi-jvm.toml --out-dir "$build/swift"
# One Swift file per exporting crate (tenda, tenda_pos, tenda_domain): all of them make the
# `Tenda` module, which is how uniffi's Swift resolves one crate's types used by another.
mv "$build/swift/"*.swift "$build/generated/Tenda/"
mv "$build/swift/"*.h "$build/headers/"
cat "$build/swift/"*.modulemap > "$build/headers/module.modulemap"

lipo -create target/aarch64-apple-ios-sim/release/libtenda_ffi.a target/x86_64-apple-ios/release/libtenda_ffi.a \
  -output "$build/sim/libtenda_ffi.a"
xcodebuild -create-xcframework \
  -library target/aarch64-apple-ios/release/libtenda_ffi.a -headers "$build/headers" \
  -library "$build/sim/libtenda_ffi.a" -headers "$build/headers" \
  -output "$build/TendaFFI.xcframework"
echo "build-xcframework: $build/TendaFFI.xcframework and the Swift sources in $build/generated/Tenda/"
