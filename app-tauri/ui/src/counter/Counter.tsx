import { memo, useCallback, useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import type { AppInfo } from "../bindings/AppInfo";
import type { ApprovalInput } from "../bindings/ApprovalInput";
import type { Operator } from "../bindings/Operator";
import type { PosStatus } from "../bindings/PosStatus";
import type { ProductView } from "../bindings/ProductView";
import type { RegisterView } from "../bindings/RegisterView";
import type { SaleOutcome } from "../bindings/SaleOutcome";
import type { TicketView } from "../bindings/TicketView";
import type { UiError } from "../bindings/UiError";
import type { CustomerView as Customer } from "../bindings/CustomerView";
import { asUiError } from "../backend";
import { useBackend } from "../context";
import { formatMoney, formatQuantity, parseQuantity } from "../format";
import { actionForKey, errorText, parseDiscount, type CounterAction } from "../state";
import { Message } from "../ui";
import { SignIn } from "./SignIn";
import { OpenRegister, CloseRegister } from "./Register";
import { PayDialog } from "./PayDialog";
import { ReceiptDialog } from "./ReceiptDialog";
import { ContingencyDialog } from "./ContingencyDialog";
import { ManagerDialog } from "./ManagerDialog";
import { OfflineSales } from "./OfflineSales";
import { FiscalNotes } from "./FiscalNotes";
import { DevicesDialog } from "./DevicesDialog";
import { PromptDialog } from "./PromptDialog";
import { CustomerDialog } from "./CustomerDialog";

type Dialogs =
  | { kind: "none" }
  | { kind: "pay" }
  | { kind: "receipt"; outcome: SaleOutcome }
  | { kind: "contingency" }
  | { kind: "sales" }
  | { kind: "fiscal" }
  | { kind: "close" }
  | { kind: "devices" }
  | { kind: "customer" }
  | { kind: "prompt"; action: "qty" | "discount" | "saleDiscount" | "consumer" };

/// A manager's approval asked on top of whatever is open; the action runs again with it.
type Approval = { label: string; retry: (m: ApprovalInput) => Promise<void> };

const emptyTicket: TicketView = {
  lines: [],
  gross: 0,
  discount: 0,
  total: 0,
  discount_basis_points: 0,
  consumer_tax_id: null,
  customer_id: null,
};

export function Counter({ info, status, active }: { info: AppInfo; status: PosStatus; active: boolean }) {
  const { t } = useTranslation();
  const backend = useBackend();
  const [operator, setOperator] = useState<Operator | null>(null);
  const [session, setSession] = useState<RegisterView | null>(null);
  const [ticket, setTicket] = useState<TicketView>(emptyTicket);
  const [selected, setSelected] = useState(0);
  const [code, setCode] = useState("");
  const [results, setResults] = useState<ProductView[] | null>(null);
  const [resultsFor, setResultsFor] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [info2, setInfo2] = useState<string | null>(null);
  const [dialog, setDialog] = useState<Dialogs>({ kind: "none" });
  const [customer, setCustomer] = useState<Customer | null>(null);
  const [approval, setApproval] = useState<Approval | null>(null);
  const scanRef = useRef<HTMLInputElement>(null);
  const searchSeq = useRef(0);
  const money = (c: number) => formatMoney(c);

  useEffect(() => {
    void backend.signedIn().then(setOperator);
    void backend.registerSession().then(setSession);
  }, [backend]);

  const fail = useCallback((e: unknown, extra?: Record<string, string>) => {
    const err: UiError = asUiError(e);
    err.fields = { ...err.fields, ...extra };
    setInfo2(null);
    setError(errorText(t, err));
    return err;
  }, [t]);

  /// Runs an action; when it needs a manager, asks for one and runs it again with their PIN.
  const withManager = useCallback(
    async (label: string, run: (m: ApprovalInput | null) => Promise<void>) => {
      try {
        await run(null);
        setError(null);
      } catch (e) {
        const err = asUiError(e);
        if (err.code === "forbidden" || (err.code === "limit_exceeded" && err.fields.limit?.includes("discount"))) {
          setApproval({
            label,
            retry: async (m) => {
              await run(m);
              setError(null);
            },
          });
        } else {
          fail(err);
        }
      }
    },
    [fail],
  );

  const focusScan = () => setTimeout(() => scanRef.current?.focus(), 0);

  const submitCode = async () => {
    const text = code.trim();
    if (!text) return;
    const isCode = /^\d+$/.test(text) || /^[A-Z]{2,4}\d+$/i.test(text);
    if (!isCode && results && results.length > 0) {
      await addProduct(results[0]);
      return;
    }
    try {
      const t0 = performance.now();
      const next = await backend.scan(text, null);
      setTicket(next);
      setSelected(next.lines.length - 1);
      setCode("");
      setResults(null);
      setError(null);
      const last = next.lines[next.lines.length - 1];
      setInfo2(last ? t("counter.added", { name: last.name }) : null);
      (window as unknown as { __lastScanMs?: number }).__lastScanMs = performance.now() - t0;
    } catch (e) {
      // Nothing is lost: the typed code stays in the field for correction.
      fail(e, { code: text });
    }
  };

  const addProduct = async (p: ProductView) => {
    try {
      const next = await backend.scan(p.gtin ?? p.sku, null);
      setTicket(next);
      setSelected(next.lines.length - 1);
      setCode("");
      setResults(null);
      setError(null);
      setInfo2(t("counter.added", { name: p.name }));
    } catch (e) {
      fail(e, { code: p.sku });
    }
    focusScan();
  };

  // Search as you type (names): the newest keystroke wins.
  useEffect(() => {
    const text = code.trim();
    if (text.length < 2 || /^\d+$/.test(text)) {
      setResults(null);
      return;
    }
    const seq = ++searchSeq.current;
    void backend.searchProducts(text, 20).then(
      (r) => {
        if (seq === searchSeq.current) {
          setResults(r);
          setResultsFor(text);
        }
      },
      () => undefined,
    );
  }, [code, backend]);

  const act = async (action: CounterAction) => {
    const line = ticket.lines[selected];
    switch (action) {
      case "pay":
        if (ticket.lines.length > 0) setDialog({ kind: "pay" });
        break;
      case "qty":
      case "discount":
        if (line) setDialog({ kind: "prompt", action });
        break;
      case "saleDiscount":
      case "consumer":
        setDialog({ kind: "prompt", action });
        break;
      case "void":
        if (line)
          await withManager(t("counter.keys.void"), async (m) => {
            const next = await backend.voidLine(line.index, m);
            setTicket(next);
            setSelected(Math.max(0, Math.min(selected, next.lines.length - 1)));
          });
        break;
      case "customer":
        setDialog({ kind: "customer" });
        break;
      case "sales":
        setDialog({ kind: "sales" });
        break;
      case "fiscal":
        setDialog({ kind: "fiscal" });
        break;
      case "contingency":
        setDialog({ kind: "contingency" });
        break;
      case "close":
        // The register as the core has it now (its sales and cash moved since it opened).
        try {
          const current = await backend.registerSession();
          if (!current) return;
          setSession(current);
          setDialog({ kind: "close" });
        } catch (e) {
          fail(e);
        }
        break;
      case "devices":
        setDialog({ kind: "devices" });
        break;
    }
  };

  useEffect(() => {
    if (!active || !operator || !session) return;
    const onKey = (e: KeyboardEvent) => {
      const action = actionForKey(e.key);
      if (action && dialog.kind === "none" && !approval) {
        e.preventDefault();
        void act(action);
      } else if (dialog.kind === "none" && !approval && (e.key === "ArrowUp" || e.key === "ArrowDown") && !results) {
        e.preventDefault();
        setSelected((s) => Math.max(0, Math.min(ticket.lines.length - 1, s + (e.key === "ArrowUp" ? -1 : 1))));
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  });

  const onPrompt = async (value: string) => {
    if (dialog.kind !== "prompt") return;
    const line = ticket.lines[selected];
    try {
      if (dialog.action === "qty" && line) {
        const q = parseQuantity(value);
        if (q === null) throw { code: "invalid_input", fields: { field: t("counter.qty"), reason: value }, message: "" };
        setTicket(await backend.setQuantity(line.index, q));
      } else if (dialog.action === "consumer") {
        const v = value.trim();
        try {
          setTicket(await backend.setConsumerTaxId(v === "" ? null : v));
        } catch (e) {
          const err = asUiError(e);
          err.fields = { ...err.fields, value: v };
          throw err;
        }
      } else if (dialog.action === "discount" || dialog.action === "saleDiscount") {
        const d = value.trim() === "" ? null : parseDiscount(value);
        if (value.trim() !== "" && d === null)
          throw { code: "invalid_input", fields: { field: t("counter.discount"), reason: value }, message: "" };
        setDialog({ kind: "none" });
        await withManager(t(dialog.action === "discount" ? "counter.lineDiscount" : "counter.saleDiscount"), async (m) => {
          setTicket(
            dialog.action === "discount" && line
              ? await backend.setLineDiscount(line.index, d, m)
              : await backend.setSaleDiscount(d, m),
          );
        });
        focusScan();
        return;
      }
      setError(null);
      setDialog({ kind: "none" });
      focusScan();
    } catch (e) {
      // The dialog stays open with what was typed, and says why.
      throw asUiError(e);
    }
  };

  if (!operator)
    return (
      <SignIn
        info={info}
        onSignedIn={async (op) => {
          setOperator(op);
          setSession(await backend.registerSession());
          setTicket(await backend.ticket());
        }}
      />
    );
  const managerDialog = approval && (
    <ManagerDialog
      info={info}
      action={approval.label}
      onCancel={() => {
        setApproval(null);
        focusScan();
      }}
      onApprove={async (m) => {
        await approval.retry(m);
        setApproval(null);
        focusScan();
      }}
    />
  );
  if (!session)
    return (
      <>
        <OpenRegister
          onOpened={(s) => {
            setSession(s);
            focusScan();
          }}
          withManager={withManager}
          error={error}
        />
        {managerDialog}
      </>
    );

  const keys: CounterAction[] = ["pay", "qty", "discount", "saleDiscount", "consumer", "customer", "void", "sales", "fiscal", "contingency", "close", "devices"];
  return (
    <div className="counter" data-testid="counter">
      <section className="ticket-pane">
        <div className="scan-row">
          <input
            ref={scanRef}
            autoFocus
            data-testid="scan"
            className="scan"
            placeholder={t("counter.scanPlaceholder")}
            value={code}
            onChange={(e) => {
              setCode(e.target.value);
              setError(null);
            }}
            onKeyDown={(e) => {
              if (e.key === "Enter") {
                e.preventDefault();
                void submitCode();
              }
            }}
          />
        </div>
        {results && (
          <div className="results" data-testid="search-results" data-query={resultsFor}>
            <div className="results-title">{t("counter.searchResults")}</div>
            {results.length === 0 && <div className="muted">{t("counter.noResults", { text: code })}</div>}
            {results.map((p) => (
              <button key={p.id} className="result" onClick={() => void addProduct(p)} data-testid="search-result">
                <span>{p.name}</span>
                <span className="muted">{p.gtin ?? p.sku}</span>
                <span className="num">{money(p.price)}</span>
              </button>
            ))}
          </div>
        )}
        <Message error={error} info={info2} />
        <TicketLines lines={ticket.lines} selected={selected} onSelect={setSelected} />
        {ticket.lines.length === 0 && <div className="empty">{t("counter.emptyTicket")}</div>}
      </section>
      <aside className="side">
        <div className="who">
          <span data-testid="operator">{t("counter.signedInAs", { name: operator.name, role: t(`roles.${operator.role}` as "roles.seller") })}</span>
          <button
            data-testid="sign-out"
            onClick={async () => {
              try {
                await backend.signOut();
                setOperator(null);
                setError(null);
              } catch (e) {
                fail(e);
              }
            }}
          >
            {t("counter.signOut")}
          </button>
        </div>
        <div className="totals">
          <div>
            <span>{t("counter.subtotal")}</span>
            <span className="num">{money(ticket.gross)}</span>
          </div>
          {ticket.discount > 0 && (
            <div>
              <span>{t("counter.discount")}</span>
              <span className="num">-{money(ticket.discount)}</span>
            </div>
          )}
          <div className="grand">
            <span>{t("counter.total")}</span>
            <span className="num" data-testid="ticket-total">
              {money(ticket.total)}
            </span>
          </div>
          {customer && ticket.customer_id && (
            <div className="muted" data-testid="ticket-customer">
              {t("customer.onTicket", { name: customer.name, balance: money(customer.balance) })}
            </div>
          )}
          <div className="muted" data-testid="consumer">
            {ticket.consumer_tax_id ? `${t("counter.consumer")}: ${ticket.consumer_tax_id}` : t("counter.noConsumer")}
          </div>
        </div>
        <div className="fkeys">
          {keys.map((k) => (
            <button key={k} data-testid={`key-${k}`} onClick={() => void act(k)}>
              {t(`counter.keys.${k}`)}
            </button>
          ))}
          {ticket.lines.length > 0 && (
            <button
              onClick={async () => {
                try {
                  setTicket(await backend.clearTicket());
                } catch (e) {
                  fail(e);
                }
              }}
            >
              {t("counter.clear")}
            </button>
          )}
        </div>
      </aside>
      {dialog.kind === "pay" && (
        <PayDialog
          ticket={ticket}
          status={status}
          onCancel={() => {
            setDialog({ kind: "none" });
            focusScan();
          }}
          onPaid={(outcome) => {
            setError(null);
            setCustomer(null);
            setTicket(emptyTicket);
            setSelected(0);
            setDialog({ kind: "receipt", outcome });
          }}
        />
      )}
      {dialog.kind === "receipt" && (
        <ReceiptDialog
          outcome={dialog.outcome}
          withManager={withManager}
          onClose={() => {
            setDialog({ kind: "none" });
            setInfo2(null);
            focusScan();
          }}
        />
      )}
      {dialog.kind === "contingency" && <ContingencyDialog info={info} onClose={() => { setDialog({ kind: "none" }); setError(null); focusScan(); }} />}
      {dialog.kind === "sales" && <OfflineSales onClose={() => { setDialog({ kind: "none" }); focusScan(); }} withManager={withManager} />}
      {dialog.kind === "fiscal" && <FiscalNotes onClose={() => { setDialog({ kind: "none" }); focusScan(); }} withManager={withManager} />}
      {dialog.kind === "customer" && (
        <CustomerDialog
          lastSync={status.last_sync}
          onCancel={() => {
            setDialog({ kind: "none" });
            focusScan();
          }}
          onPicked={async (c) => {
            setCustomer(c);
            setTicket(await backend.ticket());
            setDialog({ kind: "none" });
            focusScan();
          }}
        />
      )}
      {dialog.kind === "devices" && <DevicesDialog onClose={() => { setDialog({ kind: "none" }); focusScan(); }} />}
      {dialog.kind === "close" && (
        <CloseRegister
          session={session}
          withManager={withManager}
          onClose={(closed) => {
            setDialog({ kind: "none" });
            if (closed) setSession(null);
            else focusScan();
          }}
        />
      )}
      {managerDialog}
      {dialog.kind === "prompt" && (
        <PromptDialog
          title={
            dialog.action === "qty"
              ? t("counter.quantityPrompt", { line: selected + 1 })
              : dialog.action === "consumer"
                ? t("counter.consumer")
                : dialog.action === "discount"
                  ? `${t("counter.lineDiscount")} — ${t("counter.discountPrompt")}`
                  : `${t("counter.saleDiscount")} — ${t("counter.discountPrompt")}`
          }
          initial={dialog.action === "consumer" ? (ticket.consumer_tax_id ?? "") : ""}
          onCancel={() => {
            setDialog({ kind: "none" });
            focusScan();
          }}
          onSubmit={onPrompt}
        />
      )}
    </div>
  );
}

/// The ticket's lines. Memoized: a keystroke in the scan field re-renders the counter, and a long
/// ticket must not be painted again for it — only when its lines or the selection change.
const TicketLines = memo(function TicketLines({
  lines,
  selected,
  onSelect,
}: {
  lines: TicketView["lines"];
  selected: number;
  onSelect: (index: number) => void;
}) {
  const { t } = useTranslation();
  return (
    <table className="lines" data-testid="ticket">
      <thead>
        <tr>
          <th>#</th>
          <th>{t("counter.product")}</th>
          <th className="num">{t("counter.qty")}</th>
          <th className="num">{t("counter.price")}</th>
          <th className="num">{t("counter.discount")}</th>
          <th className="num">{t("counter.total")}</th>
        </tr>
      </thead>
      <tbody>
        {lines.map((l, i) => (
          <tr key={l.index} className={i === selected ? "selected" : ""} onClick={() => onSelect(i)} data-testid="ticket-line">
            <td>{i + 1}</td>
            <td>{l.name}</td>
            <td className="num">
              {formatQuantity(l.quantity_thousandths)} {l.unit}
            </td>
            <td className="num">{formatMoney(l.unit_price)}</td>
            <td className="num">{l.discount ? formatMoney(l.discount) : ""}</td>
            <td className="num">{formatMoney(l.total)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
});
