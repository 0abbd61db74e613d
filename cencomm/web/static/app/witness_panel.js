// The audit screen's witnesses: the verdict on the server's checkpoint (cosigned by a quorum of the
// witnesses this reader trusts, or plainly not), and the form that keeps those witnesses in this
// browser (`witnesses.js`).
import { useState } from "preact/hooks";
import { html } from "./html.js";
import { formatNumber, t } from "./i18n.js";
import { parseWitnessKey, saveWitnessSettings, witnessSettings } from "./witnesses.js";

export function WitnessVerdict({ result }) {
  const params = {
    count: formatNumber(result.cosigned?.length ?? 0),
    known: formatNumber(result.known ?? 0),
    quorum: formatNumber(result.quorum ?? 0),
    names: result.cosigned?.length ? result.cosigned.join(", ") : t("audit.witness.nobody"),
    name: result.witness ?? "",
  };
  if (result.ok) {
    return html`<p class="verdict verdict-ok" data-witnessed="true">✓ ${t("audit.witness.cosigned", params)}</p>`;
  }
  const text = result.reason === "quorum" ? t("audit.witness.quorumMissing", params) : t(`audit.witness.reason.${result.reason}`, params);
  return html`<div class="alarm" role="alert" data-witnessed="false" data-reason=${result.reason}>
    <strong>✗ ${text}</strong>
  </div>`;
}

export function WitnessPanel({ onSaved }) {
  const saved = witnessSettings();
  const [keys, setKeys] = useState(saved.keys.join("\n"));
  const [quorum, setQuorum] = useState(String(saved.quorum || 1));
  const [error, setError] = useState(null);

  async function save(event) {
    event.preventDefault();
    const list = keys.split("\n").map((line) => line.trim()).filter(Boolean);
    for (const text of list) {
      if (!(await parseWitnessKey(text))) {
        setError(t("audit.witness.badKey", { key: text }));
        return;
      }
    }
    const needed = Number(quorum);
    if (list.length && !(Number.isSafeInteger(needed) && needed >= 1 && needed <= list.length)) {
      setError(t("audit.witness.badQuorum"));
      return;
    }
    setError(null);
    saveWitnessSettings(list, list.length ? needed : 0);
    onSaved();
  }

  return html`<section class="panel" aria-labelledby="witness-title">
    <h2 id="witness-title">${t("audit.witness.title")}</h2>
    <p class="hint">${t("audit.witness.lead")}</p>
    ${saved.keys.length ? null : html`<p class="info" data-witnesses="none">${t("audit.witness.none")}</p>`}
    <form class="witness-form" onSubmit=${save}>
      <label>${t("audit.witness.keys")}
        <textarea name="witnesses" rows="3" spellcheck="false" value=${keys}
          onInput=${(e) => setKeys(e.currentTarget.value)}></textarea>
      </label>
      <label>${t("audit.witness.quorum")}
        <input type="number" name="quorum" min="1" value=${quorum}
          onInput=${(e) => setQuorum(e.currentTarget.value)} />
      </label>
      ${error ? html`<p class="error" role="alert">${error}</p>` : null}
      <p class="actions"><button type="submit">${t("audit.witness.save")}</button></p>
    </form>
  </section>`;
}
