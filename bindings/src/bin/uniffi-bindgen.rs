//! `uniffi-bindgen generate --library <libtenda_ffi.so> --language kotlin|swift|python`, built
//! from the workspace's own uniffi so the generated code always matches the library.

fn main() {
    uniffi::uniffi_bindgen_main()
}
