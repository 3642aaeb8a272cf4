import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { BackendContext } from "./context";
import { setupI18n } from "./i18n";
import { mockBackend } from "./mockBackend";
import { tauriBackend } from "./tauriBackend";
import "./styles.css";

setupI18n("pt-BR");

// Inside the app, the Rust commands; in a plain browser (UI work, browser tests), the in-memory store.
const backend = "__TAURI_INTERNALS__" in window ? tauriBackend : mockBackend();

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <BackendContext.Provider value={backend}>
      <App />
    </BackendContext.Provider>
  </StrictMode>,
);
