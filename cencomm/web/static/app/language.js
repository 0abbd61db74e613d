// The language switch: English, French, and whatever catalogues translators add.
import { html } from "./html.js";
import { availableLanguages, chooseLanguage, lang, t } from "./i18n.js";

export function LanguageSwitch() {
  return html`<label class="language">
    <span class="visually-hidden">${t("nav.language")}</span>
    <select value=${lang()} onChange=${(e) => chooseLanguage(e.target.value)}>
      ${availableLanguages().map(
        (l) => html`<option value=${l.code} lang=${l.code}>${l.name}</option>`,
      )}
      ${availableLanguages().some((l) => l.code === lang())
        ? null
        : html`<option value=${lang()}>${lang()}</option>`}
    </select>
  </label>`;
}
