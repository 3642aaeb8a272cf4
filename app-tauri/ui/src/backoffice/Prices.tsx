import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import type { BranchView } from "../bindings/server/BranchView";
import { asUiError, type CatalogProduct } from "../backend";
import { useBackend } from "../context";
import { formatMoney, parseMoney } from "../format";
import { errorText } from "../state";
import { Message } from "../ui";

export function Prices() {
  const { t } = useTranslation();
  const backend = useBackend();
  const [branches, setBranches] = useState<BranchView[]>([]);
  const [branch, setBranch] = useState("");
  const [search, setSearch] = useState("");
  const [found, setFound] = useState<CatalogProduct[]>([]);
  const [product, setProduct] = useState<CatalogProduct | null>(null);
  const [price, setPrice] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [info, setInfo] = useState<string | null>(null);
  useEffect(() => {
    void backend.boBranches().then((b) => {
      setBranches(b);
      setBranch(b[0]?.id ?? "");
    });
  }, [backend]);
  useEffect(() => {
    if (search.trim().length < 2) return setFound([]);
    void backend.boProducts(search, 0, 10).then(setFound, () => undefined);
  }, [search, backend]);
  return (
    <div className="form-page" data-testid="prices">
      <label>
        {t("bo.prices.branch")}
        <select value={branch} onChange={(e) => setBranch(e.target.value)}>
          {branches.map((b) => (
            <option key={b.id} value={b.id}>
              {b.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t("bo.prices.product")}
        <input value={search} onChange={(e) => setSearch(e.target.value)} />
      </label>
      <ul className="picker">
        {found.map((p) => (
          <li key={p.id}>
            <button className={product?.id === p.id ? "active" : ""} onClick={() => { setProduct(p); setPrice(formatMoney(p.price_cents)); }}>
              {p.sku} — {p.name} ({formatMoney(p.price_cents)})
            </button>
          </li>
        ))}
      </ul>
      {product && (
        <form
          onSubmit={async (e) => {
            e.preventDefault();
            const cents = parseMoney(price);
            if (cents === null || cents <= 0) return setError(t("errors.invalid_input", { field: t("bo.prices.price"), reason: price }));
            try {
              await backend.boSetBranchPrice(branch, product.id, cents);
              setInfo(t("bo.prices.saved"));
              setError(null);
            } catch (err) {
              setError(errorText(t, asUiError(err)));
            }
          }}
        >
          <label>
            {t("bo.prices.price")} — {product.name}
            <input value={price} onChange={(e) => setPrice(e.target.value)} />
          </label>
          <button className="primary" type="submit">
            {t("bo.prices.save")}
          </button>
        </form>
      )}
      <Message error={error} info={info} />
    </div>
  );
}
