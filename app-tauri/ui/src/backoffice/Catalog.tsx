import { useCallback, useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { useVirtualizer } from "@tanstack/react-virtual";
import type { ImportReport } from "../bindings/ImportReport";
import { asUiError, type CatalogProduct, type ImportProgress } from "../backend";
import { useBackend } from "../context";
import { formatMoney, formatNumber } from "../format";
import { errorText } from "../state";
import { Message } from "../ui";

const PAGE = 500;
const ROW = 30;
/// Pages kept on each side of the view (10,000 rows) before they are let go.
const KEPT_PAGES = 20;

/// The whole catalog in a virtualized table: only the visible rows exist in the page; pages of
/// 500 load as they come into view (and the next one ahead of the scroll).
export function Catalog() {
  const { t } = useTranslation();
  const backend = useBackend();
  const [search, setSearch] = useState("");
  const pages = useRef(new Map<number, CatalogProduct[]>());
  const loading = useRef(new Set<number>());
  const [count, setCount] = useState(PAGE);
  const [complete, setComplete] = useState(false);
  const [, setVersion] = useState(0);
  const [progress, setProgress] = useState<ImportProgress | null>(null);
  const [report, setReport] = useState<ImportReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  const generation = useRef(0);
  const totalKnown = useRef(false);
  const parent = useRef<HTMLDivElement>(null);

  const loadPage = useCallback(
    async (page: number) => {
      if (pages.current.has(page) || loading.current.has(page)) return;
      loading.current.add(page);
      const gen = generation.current;
      try {
        const rows = await backend.boProducts(search, page * PAGE, PAGE);
        if (gen !== generation.current) return;
        pages.current.set(page, rows);
        if (rows.length < PAGE) {
          totalKnown.current = true;
          setCount(page * PAGE + rows.length);
          setComplete(true);
        } else if (!totalKnown.current) setCount((c) => Math.max(c, (page + 2) * PAGE));
        setVersion((v) => v + 1);
      } catch (e) {
        setError(errorText(t, asUiError(e)));
      } finally {
        loading.current.delete(page);
      }
    },
    [backend, search],
  );

  useEffect(() => {
    generation.current += 1;
    pages.current = new Map();
    loading.current = new Set();
    setCount(PAGE);
    setComplete(false);
    totalKnown.current = false;
    void loadPage(0);
    // The total first, so the scrollbar spans the whole catalog before the pages arrive.
    const gen = generation.current;
    void backend.boProductCount(search).then(
      (total) => {
        if (gen !== generation.current) return;
        totalKnown.current = true;
        setCount(total);
        setComplete(true);
      },
      (e) => setError(errorText(t, asUiError(e))),
    );
  }, [search, loadPage]);

  const rows = useVirtualizer({ count, getScrollElement: () => parent.current, estimateSize: () => ROW, overscan: 20 });
  const items = rows.getVirtualItems();
  useEffect(() => {
    if (items.length === 0) return;
    const first = Math.floor(items[0].index / PAGE);
    const last = Math.floor(items[items.length - 1].index / PAGE);
    // The pages in view and one on each side, so a scroll either way finds its rows loaded;
    // pages far from the view are let go, so scrolling the whole catalog does not hold it all.
    for (let p = Math.max(0, first - 1); p <= last + 1; p++) void loadPage(p);
    for (const p of [...pages.current.keys()]) if (p < first - KEPT_PAGES || p > last + KEPT_PAGES) pages.current.delete(p);
  }, [items[0]?.index, items[items.length - 1]?.index, loadPage]);

  useEffect(() => {
    const off = backend.onImportProgress(setProgress);
    return () => {
      void off.then((f) => f());
    };
  }, [backend]);

  const loaded = [...pages.current.values()].reduce((n, p) => n + p.length, 0);

  return (
    <div className="catalog" data-testid="catalog">
      <div className="toolbar">
        <input data-testid="catalog-search" placeholder={t("bo.catalog.search")} value={search} onChange={(e) => setSearch(e.target.value)} />
        <span className="muted" data-testid="catalog-loaded">
          {complete ? t("bo.catalog.total", { n: formatNumber(count) }) : t("bo.catalog.loaded", { count: loaded })}
        </span>
        <label className="button">
          {t("bo.catalog.import")}
          <input
            data-testid="catalog-import"
            type="file"
            accept=".csv,text/csv"
            className="file-input"
            onChange={async (e) => {
              const file = e.target.files?.[0];
              e.target.value = "";
              if (!file) return;
              setReport(null);
              setError(null);
              try {
                const r = await backend.boImportCsv(await file.text());
                setReport(r);
                generation.current += 1;
                pages.current = new Map();
                setCount(PAGE);
                setComplete(false);
                void loadPage(0);
              } catch (err) {
                setError(errorText(t, asUiError(err)));
              } finally {
                setProgress(null);
              }
            }}
          />
        </label>
      </div>
      {progress && (
        <div className="progress" data-testid="import-progress">
          <div className="bar" style={{ width: `${progress.total ? (progress.done * 100) / progress.total : 0}%` }} />
          <span>{t("bo.catalog.importing", { done: progress.done, total: progress.total })}</span>
        </div>
      )}
      <Message error={error} info={report ? t("bo.catalog.imported", { count: report.imported }) : null} />
      {report && report.errors.length > 0 && (
        <div className="row-errors" data-testid="import-errors">
          <strong>{t("bo.catalog.rowErrors", { count: report.errors.length })}</strong>
          <ul>
            {report.errors.slice(0, 50).map((e) => (
              <li key={e.line}>{t("bo.catalog.line", { line: e.line, message: e.message })}</li>
            ))}
          </ul>
        </div>
      )}
      <div className="vtable-head">
        <span>{t("bo.catalog.sku")}</span>
        <span>{t("bo.catalog.gtin")}</span>
        <span>{t("bo.catalog.name")}</span>
        <span>{t("bo.catalog.unit")}</span>
        <span className="num">{t("bo.catalog.price")}</span>
      </div>
      <div ref={parent} className="vtable" data-testid="catalog-table">
        <div style={{ height: rows.getTotalSize(), position: "relative" }}>
          {items.map((v) => {
            const p = pages.current.get(Math.floor(v.index / PAGE))?.[v.index % PAGE];
            return (
              <div key={v.key} className="vrow" style={{ transform: `translateY(${v.start}px)`, height: ROW }} data-testid="catalog-row">
                {p ? (
                  <>
                    <span>{p.sku}</span>
                    <span>{p.gtin ?? ""}</span>
                    <span>{p.name}</span>
                    <span>{p.unit}</span>
                    <span className="num">{formatMoney(p.price_cents)}</span>
                  </>
                ) : (
                  <span className="muted">…</span>
                )}
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
