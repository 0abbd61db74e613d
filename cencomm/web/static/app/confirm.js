// A two-step action: the first button opens a small panel that says what will happen, with a
// real confirm button and a cancel button. Focus moves into the panel (its first field, else the
// confirm button) and back to the first button on cancel or Escape.
// Extra fields (a reason) go in as children. Errors from `onConfirm` stay in the open panel.
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "./html.js";
import { t } from "./i18n.js";
import { ProblemView } from "./ui.js";

export function ConfirmAction({
  label,
  question,
  confirmLabel,
  onConfirm,
  danger = false,
  disabled = false,
  canConfirm = true,
  className = "",
  children,
}) {
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState(null);
  const trigger = useRef(null);
  const panel = useRef(null);
  const wasOpen = useRef(false);

  useEffect(() => {
    // The first field (a reason) when there is one, else the confirm button.
    if (open) panel.current?.querySelector("input, textarea, select, button")?.focus();
    else if (wasOpen.current) trigger.current?.focus();
    wasOpen.current = open;
  }, [open]);

  async function run() {
    setBusy(true);
    setProblem(null);
    try {
      await onConfirm();
      setOpen(false);
    } catch (error) {
      setProblem(error);
    } finally {
      setBusy(false);
    }
  }

  if (!open) {
    return html`<button type="button" ref=${trigger} class=${className} disabled=${disabled}
      onClick=${() => setOpen(true)}>${label}</button>`;
  }
  return html`<div class="confirm-panel" role="group" aria-label=${question} ref=${panel}
    onKeyDown=${(e) => {
      if (e.key === "Escape") setOpen(false);
    }}>
    <p class="confirm-question">${question}</p>
    ${children}
    <${ProblemView} problem=${problem} />
    <div class="confirm-buttons">
      <button type="button" class=${danger ? "danger" : "primary"}
        disabled=${busy || !canConfirm} onClick=${run}>${busy ? t("common.working") : confirmLabel}</button>
      <button type="button" onClick=${() => setOpen(false)}>${t("common.cancel")}</button>
    </div>
  </div>`;
}
