// SLOs and their error budgets, alerts firing and their history, remediations taken, and GenAI cost against its
// budgets with the month-end forecast. Each section comes from its own API view; a feature not configured says so.
import { get, ApiError } from './api.js';
import { el, clear, seconds } from './dom.js';

const POLL_MS = 5000;

async function view(path) {
  try {
    return { data: await get(path) };
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      return { missing: true };
    }
    return { error: e.message };
  }
}

function section(id, title, result, render, missing) {
  const body = result.missing ? el('p', { class: 'hint' }, missing)
    : result.error ? el('p', { class: 'error' }, result.error) : render(result.data);
  return el('section', { class: 'card', id, 'aria-labelledby': `${id}-h` }, el('h3', { id: `${id}-h` }, title), body);
}

function budgetBar(remaining) {
  const pct = remaining === null || remaining === undefined ? null : Math.max(0, Math.min(1, remaining)) * 100;
  return el('div', { class: 'budget', role: 'meter', 'aria-valuemin': 0, 'aria-valuemax': 100,
    'aria-valuenow': pct === null ? 0 : pct.toFixed(1), 'aria-label': 'error budget remaining' },
  el('div', { class: `fill ${pct !== null && pct < 25 ? 'low' : ''}`, style: null, 'data-pct': pct }),
  el('span', {}, pct === null ? '–' : `${pct.toFixed(1)}%`));
}

function slos(d) {
  if (!d.slos.length) {
    return el('p', { class: 'hint' }, 'No SLOs in the file yet.');
  }
  return el('table', { class: 'slos' },
    el('thead', {}, el('tr', {}, ['SLO', 'service', 'objective', 'budget left', 'burn rate by window', 'exhausted in',
      'firing'].map((h) => el('th', {}, h)))),
    el('tbody', {}, d.slos.map((s) => el('tr', { 'data-slo': s.name },
      el('td', {}, s.name, s.tenant ? el('span', { class: 'tags' }, ` tenant ${s.tenant}`) : ''),
      el('td', {}, s.service),
      el('td', {}, `${s.objective}% over ${s.window} (${s.sli})`),
      el('td', {}, budgetBar(s.error_budget_remaining)),
      el('td', {}, Object.entries(s.burn_rate || {}).map(([w, b]) => `${w}: ${b === null ? '–' : b.toFixed(2)}`)
        .join(', ')),
      el('td', {}, seconds(s.seconds_to_exhaustion)),
      el('td', {}, Object.keys(s.firing || {}).length ? Object.entries(s.firing).map(([sev, t]) =>
        `${sev} since ${new Date(t).toLocaleTimeString()}`).join(', ') : 'no')))));
}

function alertRow(a) {
  const l = a.labels || {};
  return el('tr', { 'data-alert': l.alertname || '' },
    el('td', {}, l.alertname || '?'), el('td', {}, l.severity || ''),
    el('td', {}, (a.annotations && a.annotations.summary) || ''),
    el('td', {}, a.startsAt ? new Date(a.startsAt).toLocaleString() : ''),
    el('td', {}, a.state || ''),
    el('td', {}, a.annotations && a.annotations.runbook_url
      ? el('a', { href: a.annotations.runbook_url, rel: 'noreferrer noopener', target: '_blank' }, 'runbook') : ''));
}

/** A history entry: {at, state, alert}; "since" is when the state changed. */
function historyRow(h) {
  const row = alertRow({ ...(h.alert || {}), state: h.state, startsAt: h.at });
  row.setAttribute('data-state', h.state || '');
  return row;
}

function alerts(d) {
  const header = (since) => el('thead', {}, el('tr', {}, ['alert', 'severity', 'summary', since, 'state', '']
    .map((h) => el('th', {}, h))));
  const outbox = Object.entries(d.outbox || {});
  return el('div', {},
    el('h4', {}, `Firing (${d.firing.length})`),
    d.firing.length ? el('table', { class: 'alerts', id: 'firing' }, header('since'), el('tbody', {},
      d.firing.map(alertRow)))
      : el('p', { class: 'ok' }, 'Nothing firing.'),
    outbox.length ? el('p', {}, `Waiting for Alertmanager: ${outbox.map(([k, v]) => `${k}: ${v}`).join(', ')}`) : '',
    el('h4', {}, 'History'),
    (d.history || []).length ? el('table', { class: 'alerts', id: 'alert-history' }, header('at'),
      el('tbody', {}, d.history.slice(-50).reverse().map(historyRow))) : el('p', { class: 'hint' },
        'No history yet.'));
}

function remediations(d) {
  return el('div', {},
    el('p', {}, `${d.dry_run ? 'Dry run (nothing is changed). ' : ''}At most ${d.max_per_hour} per hour.`),
    el('table', { class: 'remediations' },
      el('thead', {}, el('tr', {}, ['action', 'when', 'does', 'active', 'runs (1 h)'].map((h) => el('th', {}, h)))),
      el('tbody', {}, d.actions.map((a) => el('tr', {}, el('td', {}, a.name), el('td', {}, JSON.stringify(a.when)),
        el('td', {}, typeof a.does === 'string' ? a.does : JSON.stringify(a.does)), el('td', {}, a.active ? 'yes' : 'no'),
        el('td', {}, String(a.runs_last_hour)))))),
    el('h4', {}, 'Taken'),
    (d.history || []).length ? el('ul', {}, d.history.slice(-20).reverse().map((h) => el('li', {},
      typeof h === 'string' ? h : JSON.stringify(h)))) : el('p', { class: 'hint' }, 'None yet.'));
}

function cost(d) {
  const budgets = d.cost_budgets || [];
  const queues = d.queues || [];
  return el('div', {},
    budgets.length ? el('table', { class: 'cost', id: 'cost' },
      el('thead', {}, el('tr', {}, ['budget', 'series', 'monthly', 'projected month end', 'of budget']
        .map((h) => el('th', {}, h)))),
      el('tbody', {}, budgets.map((b) => el('tr', { 'data-budget': b.name },
        el('td', {}, b.name), el('td', {}, typeof b.series === 'string' ? b.series : JSON.stringify(b.series)),
        el('td', { class: 'num' }, `$${Number(b.monthly_usd).toFixed(2)}`),
        el('td', { class: 'num' }, b.projected_month_end_usd === null ? '–'
          : `$${Number(b.projected_month_end_usd).toFixed(2)}`),
        el('td', { class: 'num' }, b.ratio === null ? '–' : `${(100 * b.ratio).toFixed(0)}%`)))))
      : el('p', { class: 'hint' }, 'No cost budgets configured (forecasts.cost_budgets).'),
    queues.length ? el('table', { class: 'queues' },
      el('thead', {}, el('tr', {}, ['queue', 'used', 'full in'].map((h) => el('th', {}, h)))),
      el('tbody', {}, queues.map((q) => el('tr', {}, el('td', {}, `${q.exporter} (${q.signal})`),
        el('td', { class: 'num' }, String(q.used_bytes)), el('td', {}, seconds(q.seconds_to_full))))))
      : '');
}

export class SlosPage {
  constructor(root, say) {
    this.root = root;
    this.say = say;
    this.timer = null;
  }

  async start() {
    this.root.append(el('h2', {}, 'SLOs, alerts and cost'), this.body = el('div', { class: 'grid' }));
    await this.tick();
    this.timer = setInterval(() => this.tick().catch((e) => this.say(e.message, 'error')), POLL_MS);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
  }

  async tick() {
    const [s, a, r, f] = await Promise.all([view('/api/v1/slos'), view('/api/v1/alerts'),
      view('/api/v1/remediations'), view('/api/v1/forecasts')]);
    clear(this.body).append(
      section('slos', 'SLOs and error budgets', s, slos, 'No SLOs configured (the "slos" section of the config).'),
      section('alerts', 'Alerts', a, alerts, 'Alerting is not configured (the "alerting" section).'),
      section('remediations', 'Automated runbooks', r, remediations, 'No remediations configured.'),
      section('forecasts', 'GenAI cost and forecasts', f, cost, 'Forecasts are not configured (the "forecasts" '
        + 'section).'));
    this.body.querySelectorAll('.budget .fill').forEach((e) => {
      e.style.width = `${e.getAttribute('data-pct') || 0}%`;
    });
    this.say(`Updated ${new Date().toLocaleTimeString()}`);
  }
}
