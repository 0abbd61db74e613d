// The acknowledgement board of an alert (its sender, moderators and admins; a RILO after an
// escalation): which organisation answered, when, with which outcome, and who is overdue. It is
// kept live by the `alert.ack` and `alert.overdue` frames (alert_state.js).
import { html } from "./html.js";
import { t } from "./i18n.js";
import { Time } from "./ui.js";

function orgState(org) {
  if (org.acknowledged_at) return "acknowledged";
  return org.overdue ? "overdue" : "pending";
}

export function OutcomeTag({ outcome }) {
  if (!outcome) return null;
  return html`<span class=${`outcome outcome-${outcome}`} data-outcome=${outcome}>${t(`outcome.${outcome}`)}</span>`;
}

export function AckBoard({ alert }) {
  const summary = alert.ack_summary;
  if (!summary) return null;
  const orgs = summary.organizations;
  const answered = orgs.filter((o) => o.acknowledged_at).length;
  const overdue = orgs.filter((o) => o.overdue && !o.acknowledged_at).length;
  return html`<section class="board" aria-labelledby="board-title" data-alert=${alert.id}>
    <h2 id="board-title">${t("board.title")}</h2>
    ${summary.region
      ? html`<p class="info">${t("board.region", { region: t(`region.${summary.region}`) })}</p>`
      : null}
    <p class="board-summary" role="status" data-acknowledged=${summary.acknowledged}
      data-recipients=${summary.recipients}>
      ${t("board.summary", { acknowledged: summary.acknowledged, recipients: summary.recipients })}
      ${" · "}${t("board.organizations", { answered, total: orgs.length })}
      ${overdue ? html`${" · "}<strong class="overdue-text">${t("board.overdueCount", { count: overdue })}</strong>` : null}
    </p>
    ${orgs.length
      ? html`<table class="data board-table">
          <caption class="visually-hidden">${t("board.caption")}</caption>
          <thead><tr>
            <th scope="col">${t("board.organization")}</th>
            <th scope="col">${t("board.state")}</th>
            <th scope="col">${t("board.outcome")}</th>
            <th scope="col">${t("board.when")}</th>
          </tr></thead>
          <tbody>
            ${orgs.map((org) => {
              const state = orgState(org);
              return html`<tr key=${org.id} data-org=${org.id} data-state=${state}
                  data-outcome=${org.outcome || ""} class=${`board-row board-${state}`}>
                <th scope="row">${org.name}</th>
                <td data-label=${t("board.state")}><span class=${`ack-state ack-${state}`}>${t(`board.state.${state}`)}</span></td>
                <td data-label=${t("board.outcome")}>${org.outcome ? html`<${OutcomeTag} outcome=${org.outcome} />` : t("board.none")}</td>
                <td data-label=${t("board.when")}>${org.acknowledged_at ? html`<${Time} iso=${org.acknowledged_at} />` : t("board.none")}</td>
              </tr>`;
            })}
          </tbody>
        </table>`
      : html`<p class="empty">${t("board.noneListed")}</p>`}
    ${summary.unlisted && summary.unlisted.organizations
      ? html`<p class="hint unlisted" data-unlisted=${summary.unlisted.organizations}>
          ${t("board.unlisted", {
            count: summary.unlisted.organizations,
            acknowledged: summary.unlisted.acknowledged,
            overdue: summary.unlisted.overdue,
          })}</p>`
      : null}
  </section>`;
}
