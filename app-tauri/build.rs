fn main() {
    // The window embeds the built UI (`ui/dist`, from `npm --prefix ui run build`). A checkout
    // where it was never built still compiles (e.g. `cargo test --workspace` before the UI
    // checks run): the window then says how to build it.
    let dist = std::path::Path::new("ui/dist");
    if !dist.join("index.html").exists() {
        let _ = std::fs::create_dir_all(dist);
        let _ = std::fs::write(
            dist.join("index.html"),
            "<!doctype html><html><body><p>The UI is not built: run <code>scripts/app</code> \
             (or <code>npm --prefix app-tauri/ui run build</code>).</p></body></html>",
        );
    }
    tauri_build::build()
}
