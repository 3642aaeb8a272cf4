import { beforeAll, describe, expect, it } from "vitest";
import { render, screen } from "@testing-library/react";
import i18n from "i18next";
import { initReactI18next } from "react-i18next";
import { Hub } from "../backoffice/Hub";
import { BackendContext } from "../context";
import { resources } from "../i18n";
import { mockBackend } from "../mockBackend";

beforeAll(async () => {
  await i18n.use(initReactI18next).init({ resources, lng: "pt-BR", interpolation: { escapeValue: false } });
});

describe("the back office's hub panel", () => {
  it("shows a hub's cloud link, relay backlog and tills", async () => {
    const backend = mockBackend();
    render(
      <BackendContext.Provider value={backend}>
        <Hub />
      </BackendContext.Provider>,
    );
    expect((await screen.findByTestId("hub-backlog")).textContent).toBe("37");
    expect(screen.getByTestId("hub-tills").textContent).toContain("Caixa 2");
    expect(screen.getByTestId("hub-link").textContent).toContain("Offline");
  });
});
