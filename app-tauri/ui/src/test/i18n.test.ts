import { describe, expect, it } from "vitest";
import en from "../i18n/en";
import es from "../i18n/es";
import ptBR from "../i18n/pt-BR";

type Tree = { [k: string]: string | Tree };

function leaves(t: Tree, prefix = ""): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(t)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === "string") out.set(key, v);
    else for (const [kk, vv] of leaves(v, key)) out.set(kk, vv);
  }
  return out;
}

const placeholders = (s: string) => [...s.matchAll(/{{\s*(\w+)\s*}}/g)].map((m) => m[1]).sort();

describe("translations", () => {
  const base = leaves(en as Tree);
  for (const [name, lang] of [["pt-BR", ptBR], ["es", es]] as const) {
    const tr = leaves(lang as Tree);
    it(`${name} has every English key and no other`, () => {
      expect([...tr.keys()].sort()).toEqual([...base.keys()].sort());
    });
    it(`${name} fills every message with the same placeholders`, () => {
      for (const [key, text] of base) {
        const other = tr.get(key) ?? "";
        expect(other.trim(), key).not.toBe("");
        expect(placeholders(other), key).toEqual(placeholders(text));
      }
    });
  }
  it("translates the messages people read (not copies of the English)", () => {
    const pt = leaves(ptBR as Tree);
    // Short technical labels (PIX, NFC-e, SKU) and bare placeholder patterns may coincide;
    // sentences must not.
    const words = (v: string) => v.replace(/{{\s*\w+\s*}}/g, "").split(/\s+/).filter((w) => /\p{L}{2,}/u.test(w)).length;
    const same = [...base].filter(([k, v]) => pt.get(k) === v && words(v) >= 3);
    expect(same.map(([k]) => k)).toEqual([]);
  });
});
