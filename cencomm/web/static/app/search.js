// Search across the groups the caller may read. (First version: a placeholder.)
import { html } from "./html.js";
import { t } from "./i18n.js";

export function SearchScreen() {
  return html`<section class="screen"><h1>${t("nav.search")}</h1></section>`;
}
