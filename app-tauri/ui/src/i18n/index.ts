import i18n from "i18next";
import { initReactI18next } from "react-i18next";
import en from "./en";
import es from "./es";
import ptBR from "./pt-BR";

export const languages = ["pt-BR", "es", "en"] as const;
export type Language = (typeof languages)[number];

export const resources = {
  "pt-BR": { translation: ptBR },
  es: { translation: es },
  en: { translation: en },
} as const;

// Keys are checked at compile time against the English messages.
declare module "i18next" {
  interface CustomTypeOptions {
    defaultNS: "translation";
    resources: { translation: typeof en };
  }
}

export function setupI18n(language: Language = "pt-BR") {
  void i18n.use(initReactI18next).init({
    resources,
    lng: language,
    fallbackLng: false,
    interpolation: { escapeValue: false },
    returnNull: false,
  });
  return i18n;
}

export default i18n;
