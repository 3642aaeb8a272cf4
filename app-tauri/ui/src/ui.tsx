// Small building blocks shared by the screens.
import { useEffect, useRef, type ReactNode } from "react";

export function Dialog(props: { title: string; onClose?: () => void; children: ReactNode; wide?: boolean; testId?: string }) {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape" && props.onClose) {
        e.preventDefault();
        props.onClose();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [props.onClose]);
  return (
    <div className="overlay">
      <div className={props.wide ? "dialog wide" : "dialog"} role="dialog" aria-label={props.title} data-testid={props.testId}>
        <h2>{props.title}</h2>
        {props.children}
      </div>
    </div>
  );
}

export function Message(props: { error?: string | null; info?: string | null }) {
  if (props.error) return <div className="msg error" role="alert" data-testid="error">{props.error}</div>;
  if (props.info) return <div className="msg info" data-testid="info">{props.info}</div>;
  return null;
}

/// An input that takes focus when shown.
export function AutoFocusInput(props: React.InputHTMLAttributes<HTMLInputElement>) {
  const ref = useRef<HTMLInputElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return <input ref={ref} {...props} />;
}
