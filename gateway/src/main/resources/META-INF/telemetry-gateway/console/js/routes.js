// Routes editor: the live table and its history (with diffs), an editor validated by the gateway as you type
// (dry run: the same problems and JSON paths the API returns), explain of a sample against the live and the edited
// table side by side, apply (dry run first) and roll back — every call audited by the gateway.
import { get, post, put, ApiError } from './api.js';
import { el, clear } from './dom.js';
import { diffLines } from './diff.js';
import { locate, problemPath, nearest, lineCol, syntaxErrorOffset } from './jsonpath.js';

const pretty = (o) => JSON.stringify(o, null, 2);

function count(lines, op) {
  const n = lines.filter((l) => l.op === op).length;
  return `${n} line${n === 1 ? '' : 's'}`;
}

function diffView(before, after, label) {
  const lines = diffLines(before, after);
  const changed = lines.filter((l) => l.op !== ' ').length;
  return el('figure', { class: 'diff', 'data-diff': '' },
    el('figcaption', {}, changed === 0 ? `${label}: no difference` : `${label}: ${count(lines, '-')} removed, ${count(lines, '+')} added`),
    el('pre', {}, lines.map((l) => el('span', { class: l.op === '+' ? 'add' : l.op === '-' ? 'del' : 'same' },
      `${l.op} ${l.line}\n`))));
}

function describeRoute(r) {
  if (r.drop) {
    return `${r.rule}: drop`;
  }
  const parts = [`${r.rule} → ${(r.exporters || []).join(', ')}`];
  if (r.elasticsearch) {
    parts.push(r.elasticsearch.index ? `index ${r.elasticsearch.index}`
      : `data stream ${r.elasticsearch.dataset}.${r.elasticsearch.namespace}`);
  }
  if (r.sampling) {
    parts.push(`sampling ${r.sampling}`);
  }
  if (r.redaction) {
    parts.push(`redaction ${r.redaction.profile}: ${r.redaction.changes.length} change(s)${r.redaction.changes.length
      ? ` (${r.redaction.changes.map((c) => c.path || c.field || JSON.stringify(c)).join(', ')})` : ''}`);
  }
  return parts.join('; ');
}

function explainCell(item) {
  if (!item) {
    return el('td', {}, '–');
  }
  return el('td', { 'data-matched': item.matched.join(',') }, item.dropped ? el('strong', {}, 'dropped. ') : '',
    el('ul', {}, item.routes.map((r) => el('li', {}, describeRoute(r)))));
}

export class RoutesPage {
  constructor(root, say) {
    this.root = root;
    this.say = say;
    this.timer = null;
    this.validation = 0;
  }

  async start() {
    this.root.append(el('h2', {}, 'Routes'),
      el('div', { class: 'routes' },
        this.left = el('div', { class: 'col-left' }),
        this.right = el('div', { class: 'col-right' })));
    await this.loadHistory();
    this.renderEditor();
    await this.loadSamples();
  }

  stop() {
    clearTimeout(this.timer);
  }

  async loadHistory() {
    const [current, history] = await Promise.all([get('/api/v1/routes'), get('/api/v1/routes/history')]);
    this.current = current;
    this.history = history;
    clear(this.left);
    this.left.append(
      el('section', { class: 'card', 'aria-labelledby': 'current-h' },
        el('h3', { id: 'current-h' }, `Live table: version `, el('span', { id: 'live-version' }, current.version)),
        el('p', {}, `${current.rules} rules; applied ${new Date(current.applied_at).toLocaleString()} from `
          + `${current.source}. ${current.summary || ''}`)),
      el('section', { class: 'card', 'aria-labelledby': 'history-h' },
        el('h3', { id: 'history-h' }, 'History'),
        el('table', { class: 'history' },
          el('thead', {}, el('tr', {}, ['version', 'applied', 'source', 'change', ''].map((h) => el('th', {}, h)))),
          el('tbody', {}, history.versions.slice().reverse().map((v) => el('tr', { 'data-version': v.version },
            el('td', {}, String(v.version), v.version === history.current ? ' (live)' : ''),
            el('td', {}, new Date(v.applied_at).toLocaleTimeString()),
            el('td', {}, v.source),
            el('td', {}, v.summary || ''),
            el('td', { class: 'actions' },
              el('button', { type: 'button', onclick: () => this.showDiff(v.version) }, 'Diff'),
              v.version === history.current ? '' : el('button', { type: 'button', 'data-action': 'rollback',
                onclick: () => this.rollback(v.version) }, 'Roll back to this'))))))),
      this.diffBox = el('div', { id: 'version-diff', 'aria-live': 'polite' }));
  }

  async showDiff(version) {
    const old = await get(`/api/v1/routes?version=${version}`);
    clear(this.diffBox).append(diffView(pretty(old.table), pretty(this.current.table),
      `version ${version} → live version ${this.current.version}`));
  }

  async rollback(version) {
    clear(this.diffBox).append(el('div', { class: 'card confirm', role: 'alertdialog', 'aria-labelledby': 'rb-h' },
      el('h3', { id: 'rb-h' }, `Roll back to version ${version}?`),
      el('p', {}, 'The live table is replaced by that version\'s, as a new version; the change is audited.'),
      el('button', { type: 'button', id: 'confirm-rollback', onclick: async () => {
        try {
          const r = await post('/api/v1/routes/rollback', { version });
          this.say(`Rolled back: version ${r.version} is live (${r.summary || 'no summary'})`, 'ok');
          await this.loadHistory();
          this.editor.value = pretty(this.current.table);
          this.validate();
        } catch (e) {
          this.say(`Rollback refused: ${e.message}`, 'error');
        }
      } }, 'Roll back'),
      el('button', { type: 'button', onclick: () => clear(this.diffBox) }, 'Cancel')));
    document.getElementById('confirm-rollback').focus();
  }

  renderEditor() {
    this.editor = el('textarea', { id: 'editor', spellcheck: 'false', rows: 18, 'aria-describedby': 'problems',
      oninput: () => {
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.validate(), 400);
      } });
    this.editor.value = pretty(this.current.table);
    this.problems = el('div', { id: 'problems', 'aria-live': 'polite' });
    this.applyBox = el('div', { id: 'apply-box', 'aria-live': 'polite' });
    this.right.append(el('section', { class: 'card', 'aria-labelledby': 'editor-h' },
      el('h3', { id: 'editor-h' }, 'Edit the table'),
      el('label', { for: 'editor' }, 'Routing table (JSON; checked by the gateway as you type, nothing is applied)'),
      this.editor, this.problems,
      el('div', { class: 'buttons' },
        el('button', { type: 'button', id: 'reset', onclick: () => {
          this.editor.value = pretty(this.current.table);
          this.validate();
        } }, 'Reset to live'),
        el('button', { type: 'button', id: 'apply', onclick: () => this.apply() }, 'Apply…')),
      this.applyBox));
    this.validate();
  }

  /** The editor's JSON, or null after showing where it is broken. */
  parsed() {
    try {
      return JSON.parse(this.editor.value);
    } catch (e) {
      const at = syntaxErrorOffset(this.editor.value, e);
      const where = at >= 0 ? lineCol(this.editor.value, at) : null;
      clear(this.problems).append(el('p', { class: 'error', 'data-problem': '' },
        where ? `line ${where.line}, column ${where.column}: ` : '', `not JSON: ${e.message}`));
      if (at >= 0) {
        this.problems.firstChild.append(' ', el('button', { type: 'button', class: 'link',
          onclick: () => this.select(at, at + 1) }, 'show'));
      }
      return null;
    }
  }

  select(start, end) {
    this.editor.focus();
    this.editor.setSelectionRange(start, end);
    const line = this.editor.value.slice(0, start).split('\n').length;
    this.editor.scrollTop = Math.max(0, (line - 3) * 18);
  }

  async validate() {
    const table = this.parsed();
    if (table === null) {
      return false;
    }
    const n = ++this.validation;
    try {
      const r = await put('/api/v1/routes?dry_run=true', table);
      if (n === this.validation) {
        clear(this.problems).append(el('p', { class: 'ok', id: 'valid' }, `Valid: ${r.rules} rule${r.rules === 1 ? '' : 's'}.`));
      }
      return true;
    } catch (e) {
      if (n !== this.validation) {
        return false;
      }
      const spots = locate(this.editor.value);
      const list = (e.body.problems || [e.message]).map((p) => {
        const path = problemPath(p);
        const spot = spots && path ? nearest(spots, path) : null;
        const where = spot ? lineCol(this.editor.value, spot.start) : null;
        return el('li', { 'data-problem': '', 'data-path': path },
          where ? el('button', { type: 'button', class: 'link', onclick: () => this.select(spot.start, spot.end) },
            `line ${where.line}`) : '', where ? ' ' : '', el('code', {}, path || '(table)'), ' ',
          p.slice(path ? path.length + 1 : 0).trim());
      });
      clear(this.problems).append(el('div', { class: 'error', role: 'alert' },
        el('p', {}, `${e.body.error || e.message} — ${list.length} problem(s):`), el('ul', { id: 'problem-list' },
          list)));
      return false;
    }
  }

  async apply() {
    clear(this.applyBox);
    const table = this.parsed();
    if (table === null || !(await this.validate())) {
      this.applyBox.append(el('p', { class: 'error' }, 'Fix the problems above first; nothing was applied.'));
      return;
    }
    this.applyBox.append(el('div', { class: 'card confirm', role: 'alertdialog', 'aria-labelledby': 'apply-h' },
      el('h3', { id: 'apply-h' }, `Dry run passed: apply as version ${this.history.versions.length
        ? Math.max(...this.history.versions.map((v) => v.version)) + 1 : 1}?`),
      diffView(pretty(this.current.table), pretty(table), `live version ${this.current.version} → edited`),
      el('button', { type: 'button', id: 'confirm-apply', onclick: async () => {
        try {
          const r = await put('/api/v1/routes', table);
          clear(this.applyBox).append(el('p', { class: 'ok', id: 'applied' }, `Applied: version ${r.version} is live`
            + `${r.persisted ? ' and written to the routing file' : ''}. ${r.warning || ''}`));
          this.say(`Version ${r.version} applied`, 'ok');
          await this.loadHistory();
        } catch (e) {
          clear(this.applyBox).append(el('p', { class: 'error' }, `Not applied: ${e.message}`));
        }
      } }, 'Apply'),
      el('button', { type: 'button', onclick: () => clear(this.applyBox) }, 'Cancel')));
    document.getElementById('confirm-apply').focus();
  }

  async loadSamples() {
    let samples = [];
    let note = '';
    try {
      const r = await get('/api/v1/samples');
      samples = r.samples;
      note = r.disabled ? `Samples are off (${r.disabled}).` : '';
    } catch (e) {
      note = e instanceof ApiError && e.status === 403 ? 'Recent samples need a token with role change.'
        : `Samples: ${e.message}`;
    }
    this.samples = samples;
    this.sampleText = el('textarea', { id: 'sample', rows: 8, spellcheck: 'false' });
    const pick = el('select', { id: 'sample-pick', onchange: () => {
      const s = this.samples[Number(pick.value)];
      if (s) {
        this.sampleText.value = pretty(s.payload);
      }
    } }, el('option', { value: '' }, samples.length ? 'pick a recent request…' : 'no recent requests'),
    samples.map((s, i) => el('option', { value: i }, `${s.signal}, ${s.items} items, from ${s.receiver}`
      + `${s.tenant ? ` (tenant ${s.tenant})` : ''}, ${new Date(s.received_at).toLocaleTimeString()}`)));
    this.explainOut = el('div', { id: 'explain-out', 'aria-live': 'polite' });
    this.right.append(el('section', { class: 'card', 'aria-labelledby': 'explain-h' },
      el('h3', { id: 'explain-h' }, 'Explain a sample'),
      el('p', { class: 'hint' }, 'Where would this data go — with the live table, and with the edited one? Nothing '
        + 'is sent.', note ? ` ${note}` : ''),
      el('label', { for: 'sample-pick' }, 'Recent request'), pick,
      el('label', { for: 'sample' }, 'or paste an OTLP/JSON export request'), this.sampleText,
      el('div', { class: 'buttons' }, el('button', { type: 'button', id: 'explain', onclick: () => this.explain() },
        'Explain')),
      this.explainOut));
  }

  async explain() {
    clear(this.explainOut);
    let payload;
    try {
      payload = JSON.parse(this.sampleText.value);
    } catch (e) {
      this.explainOut.append(el('p', { class: 'error' }, `The sample is not JSON: ${e.message}`));
      return;
    }
    const edited = this.parsed();
    const [live, candidate] = await Promise.allSettled([post('/api/v1/routes/explain', { payload }),
      edited === null ? Promise.reject(new Error('the edited table is not JSON'))
        : post('/api/v1/routes/explain', { payload, routes: edited })]);
    if (live.status === 'rejected') {
      this.explainOut.append(el('p', { class: 'error' }, `Explain refused: ${live.reason.message}`));
      return;
    }
    const editedItems = candidate.status === 'fulfilled' ? candidate.value.items : [];
    const rows = live.value.items.map((item, i) => {
      const other = editedItems[i];
      const differs = other && JSON.stringify(other.routes) !== JSON.stringify(item.routes);
      return el('tr', { class: differs ? 'differs' : '', 'data-item': item.item },
        el('td', {}, el('code', {}, item.item), el('br'), `${item.service || '?'} · ${item.name || ''}`,
          item.tenant ? ` · tenant ${item.tenant}` : ''),
        explainCell(item), explainCell(other));
    });
    const summary = (r) => `${r.summary.items} items, ${r.summary.dropped} dropped; by rule `
      + Object.entries(r.summary.by_rule).map(([k, v]) => `${k} ${v}`).join(', ');
    this.explainOut.append(
      el('p', {}, `Live (version ${live.value.table_version}): ${summary(live.value)}`),
      candidate.status === 'fulfilled' ? el('p', {}, `Edited: ${summary(candidate.value)}`)
        : el('p', { class: 'error' }, `Edited table: ${candidate.reason.message}`),
      el('table', { class: 'explain' },
        el('thead', {}, el('tr', {}, el('th', {}, 'item'), el('th', {}, `live table (v${live.value.table_version})`),
          el('th', {}, 'edited table'))),
        el('tbody', {}, rows)));
  }
}
