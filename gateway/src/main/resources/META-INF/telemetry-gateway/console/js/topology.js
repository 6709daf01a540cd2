// Live topology: receivers → pipelines (processors in order) → exporters and connectors, with rates from two
// successive snapshots of GET /api/v1/topology (cumulative counters; the page does the differences).
import { get } from './api.js';
import { el, svg, clear, human, bytes, seconds } from './dom.js';

const POLL_MS = 2000;

/** Sum of a metric's values on a node, optionally only where the tags match. */
export function sum(node, name, where) {
  let total = 0;
  let found = false;
  for (const m of node.metrics || []) {
    if (m.name !== name || m.value === undefined) {
      continue;
    }
    if (where && !Object.entries(where).every(([k, v]) => m.tags[k] === v)) {
      continue;
    }
    total += m.value;
    found = true;
  }
  return found ? total : null;
}

/** Values of a metric by one tag. */
function byTag(node, name, tag) {
  const out = {};
  for (const m of node.metrics || []) {
    if (m.name === name && m.value !== undefined) {
      const k = m.tags[tag] || '';
      out[k] = (out[k] || 0) + m.value;
    }
  }
  return out;
}

function rate(now, before, node, name, where) {
  if (!before) {
    return null;
  }
  const prev = before.nodes.find((n) => n.id === node.id);
  const a = sum(node, name, where);
  const b = prev ? sum(prev, name, where) : null;
  if (a === null || b === null) {
    return null;
  }
  const dt = (now.at_ms - before.at_ms) / 1000;
  return dt > 0 ? Math.max(0, (a - b) / dt) : null;
}

function ratesByTag(now, before, node, name, tag) {
  if (!before) {
    return {};
  }
  const prev = before.nodes.find((n) => n.id === node.id);
  const a = byTag(node, name, tag);
  const b = prev ? byTag(prev, name, tag) : {};
  const dt = (now.at_ms - before.at_ms) / 1000;
  const out = {};
  for (const [k, v] of Object.entries(a)) {
    const r = (v - (b[k] || 0)) / dt;
    if (r > 0) {
      out[k] = r;
    }
  }
  return out;
}

function stat(key, label, value, text) {
  return el('div', { class: 'stat', 'data-stat': key, 'data-value': value === null ? '' : value },
    el('span', { class: 'label' }, label), el('span', { class: 'value' }, text));
}

/** The headline figures of one node, by kind (the rest is under "all metrics"). */
function stats(now, before, node) {
  const out = [];
  const r = (name, where) => rate(now, before, node, name, where);
  if (node.kind === 'receiver') {
    const inRate = r('gateway_receiver_items_received_total');
    out.push(stat('in', 'in', inRate, `${human(inRate)}/s`));
    const acc = r('gateway_receiver_items_accepted_total');
    out.push(stat('accepted', 'accepted', acc, `${human(acc)}/s`));
    const refused = { ...ratesByTag(now, before, node, 'gateway_receiver_items_refused_total', 'reason') };
    for (const [k, v] of Object.entries(ratesByTag(now, before, node, 'gateway_receiver_requests_refused_total',
      'reason'))) {
      refused[`${k} (requests)`] = v;
    }
    const total = Object.values(refused).reduce((a, b) => a + b, 0);
    out.push(stat('refused', 'refused', total, total > 0
      ? Object.entries(refused).map(([k, v]) => `${k} ${human(v)}/s`).join(', ') : '0/s'));
    const conns = sum(node, 'gateway_receiver_connections');
    out.push(stat('connections', 'connections', conns, human(conns, 0)));
  } else if (node.kind === 'processor' && node.type === 'tail_sampling') {
    const kept = r('gateway_processor_tail_sampling_traces_total', { decision: 'sampled' });
    const dropped = r('gateway_processor_tail_sampling_traces_total', { decision: 'not_sampled' });
    out.push(stat('kept', 'kept traces', kept, `${human(kept)}/s`));
    out.push(stat('dropped', 'dropped traces', dropped, `${human(dropped)}/s`));
    const buffered = sum(node, 'gateway_processor_tail_sampling_buffered_size_bytes');
    const budget = node.memory_budget_bytes;
    out.push(stat('budget', 'budget used', buffered === null || !budget ? null : buffered / budget,
      buffered === null ? '–' : `${bytes(buffered)} of ${bytes(budget)} (${(100 * buffered / budget).toFixed(1)}%)`));
    const refused = r('gateway_processor_tail_sampling_refused_spans_total');
    out.push(stat('refused', 'refused spans', refused, `${human(refused)}/s`));
  } else if (node.kind === 'processor' && node.type === 'redaction') {
    const red = r('gateway_processor_redaction_redactions_total');
    out.push(stat('redactions', 'redactions', red, `${human(red)}/s`));
  } else if (node.kind === 'exporter') {
    const sent = r('gateway_exporter_items_sent_total');
    out.push(stat('out', 'out', sent, `${human(sent)}/s`));
    const items = sum(node, 'gateway_queue_items');
    const max = node.queue ? node.queue.max_items : null;
    out.push(stat('queue', `queue (${node.queue ? node.queue.type : '?'})`, items,
      items === null ? '–' : `${human(items, 0)} of ${human(max, 0)} items, ${bytes(sum(node,
        'gateway_queue_size_bytes'))}`));
    const age = sum(node, 'gateway_queue_oldest_age_seconds');
    out.push(stat('oldest', 'oldest', age, seconds(age)));
    const retries = r('gateway_exporter_retries_total');
    out.push(stat('retries', 'retries', retries, `${human(retries)}/s`));
    const failed = ratesByTag(now, before, node, 'gateway_exporter_items_failed_total', 'reason');
    const f = Object.values(failed).reduce((a, b) => a + b, 0);
    out.push(stat('failed', 'failed', f, f > 0 ? Object.entries(failed).map(([k, v]) => `${k} ${human(v)}/s`)
      .join(', ') : '0/s'));
    const dead = sum(node, 'gateway_exporter_elasticsearch_documents_dead_lettered_total');
    if (dead !== null) {
      out.push(stat('dead_letters', 'dead letters', dead, human(dead, 0)));
    }
  }
  if (out.length === 0) {
    // Components without headline figures (connectors, enrichment, …): their first few meters, counters as rates.
    for (const m of (node.metrics || []).filter((x) => x.value !== undefined).slice(0, 4)) {
      const tags = Object.values(m.tags).join(', ');
      const label = m.name.replace(/^gateway_(connector|processor|exporter|receiver)_[a-z]+?_/, '')
        .replace(/_total$/, '') + (tags ? ` (${tags})` : '');
      if (m.name.endsWith('_total')) {
        const v = rate(now, before, node, m.name, m.tags);
        out.push(stat(m.name, label, v, `${human(v)}/s`));
      } else {
        out.push(stat(m.name, label, m.value, human(m.value, 1)));
      }
    }
  }
  return out;
}

/** Every meter of a node, counters as rates, in a disclosure (keyboard-operable natively). */
function allMetrics(now, before, node) {
  const rows = (node.metrics || []).map((m) => {
    const tags = Object.entries(m.tags).map(([k, v]) => `${k}="${v}"`).join(', ');
    let text;
    if (m.name.endsWith('_total') && m.value !== undefined) {
      const r = rate(now, before, node, m.name, m.tags);
      text = `${human(m.value, 1)} (${human(r)}/s)`;
    } else if (m.value !== undefined) {
      text = human(m.value, 2);
    } else {
      text = `count ${human(m.count)}, sum ${human(m.sum, 2)}`;
    }
    return el('tr', {}, el('td', {}, m.name, tags ? el('span', { class: 'tags' }, ` {${tags}}`) : ''),
      el('td', { class: 'num' }, text));
  });
  return el('details', {}, el('summary', {}, `all metrics (${rows.length})`),
    el('table', { class: 'metrics' }, el('tbody', {}, rows)));
}

function card(now, before, node) {
  return el('section', { class: `node ${node.kind}`, 'data-node': node.id, 'aria-label': `${node.kind} ${node.name}` },
    el('h3', {}, el('span', { class: 'kind' }, node.kind), ' ', node.name, ' ', el('span', { class: 'type' },
      node.type)), el('div', { class: 'stats' }, stats(now, before, node)), allMetrics(now, before, node));
}

export class TopologyPage {
  constructor(root, say) {
    this.root = root;
    this.say = say;
    this.before = null;
    this.timer = null;
    this.open = new Set();
  }

  async start() {
    this.root.append(el('h2', {}, 'Topology'), el('p', { class: 'hint' },
      'Receivers → pipelines → exporters, live (every 2 s). Rates are per second over the last interval.'),
    this.body = el('div', { id: 'topology' }));
    await this.tick();
    this.timer = setInterval(() => this.tick().catch((e) => this.say(`Topology: ${e.message}`, 'error')), POLL_MS);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
  }

  async tick() {
    const now = await get('/api/v1/topology');
    if (this.timer === null && this.before !== null) {
      return;
    }
    this.render(now, this.before);
    this.before = now;
    this.say(`Updated ${new Date(now.at_ms).toLocaleTimeString()}`);
  }

  render(now, before) {
    // Keep open disclosures open across refreshes.
    this.body.querySelectorAll('details[open]').forEach((d) => this.open.add(d.closest('[data-node]')
      .getAttribute('data-node')));
    this.body.querySelectorAll('details:not([open])').forEach((d) => this.open.delete(d.closest('[data-node]')
      .getAttribute('data-node')));
    clear(this.body);
    const byId = Object.fromEntries(now.nodes.map((n) => [n.id, n]));
    const used = new Set();
    const receivers = el('div', { class: 'column', 'aria-label': 'receivers' }, el('h3', { class: 'col' }, 'Receivers'));
    const middle = el('div', { class: 'column pipelines', 'aria-label': 'pipelines' }, el('h3', { class: 'col' },
      'Pipelines'));
    const exporters = el('div', { class: 'column', 'aria-label': 'exporters and connectors' }, el('h3',
      { class: 'col' }, 'Exporters and connectors'));
    const add = (column, id) => {
      if (!used.has(id) && byId[id]) {
        used.add(id);
        column.append(card(now, before, byId[id]));
      }
    };
    for (const p of now.pipelines) {
      p.receivers.forEach((r) => add(r.startsWith('connector:') ? exporters : receivers, r));
      const chain = el('ol', { class: 'chain' }, p.processors.map((id) => el('li', {},
        byId[id] ? card(now, before, byId[id]) : id)));
      p.processors.forEach((id) => used.add(id));
      middle.append(el('section', { class: 'pipeline', 'data-pipeline': p.signal, 'aria-label': `${p.signal} pipeline` },
        el('h3', {}, el('span', { class: 'kind' }, 'pipeline'), ' ', p.signal),
        p.processors.length ? chain : el('p', { class: 'hint' }, 'no processors'),
        el('p', { class: 'flow' }, `from ${p.receivers.map((r) => r.split(':')[1]).join(', ')} to `
          + `${p.exporters.map((r) => r.split(':')[1]).join(', ')}`)));
      p.exporters.forEach((x) => add(exporters, x));
    }
    now.nodes.forEach((n) => add(n.kind === 'receiver' ? receivers : exporters, n.id));
    const graph = el('div', { class: 'graph' }, receivers, middle, exporters);
    const edges = svg('svg', { class: 'edges', 'aria-hidden': 'true' });
    graph.prepend(edges);
    this.body.append(graph, this.globals(now, before));
    this.body.querySelectorAll('[data-node]').forEach((n) => {
      if (this.open.has(n.getAttribute('data-node'))) {
        const d = n.querySelector('details');
        if (d) {
          d.open = true;
        }
      }
    });
    requestAnimationFrame(() => this.drawEdges(graph, edges, now));
  }

  drawEdges(graph, edges, now) {
    const box = graph.getBoundingClientRect();
    edges.setAttribute('width', box.width);
    edges.setAttribute('height', box.height);
    const anchor = (selector, side) => {
      const e = graph.querySelector(selector);
      if (!e) {
        return null;
      }
      const r = e.getBoundingClientRect();
      return { x: (side === 'right' ? r.right : r.left) - box.left, y: r.top + Math.min(24, r.height / 2) - box.top };
    };
    const line = (a, b, cls) => {
      if (a && b) {
        const mx = (a.x + b.x) / 2;
        edges.append(svg('path', { d: `M${a.x},${a.y} C${mx},${a.y} ${mx},${b.y} ${b.x},${b.y}`, class: cls || '' }));
      }
    };
    for (const p of now.pipelines) {
      const pipe = `[data-pipeline="${p.signal}"]`;
      // A connector feeds the pipeline it is a receiver of: drawn back from its left side, dashed.
      p.receivers.forEach((r) => (r.startsWith('connector:')
        ? line(anchor(`.column [data-node="${r}"]`, 'left'), anchor(pipe, 'right'), 'feedback')
        : line(anchor(`.column [data-node="${r}"]`, 'right'), anchor(pipe, 'left'))));
      p.exporters.forEach((x) => line(anchor(pipe, 'right'), anchor(`.column [data-node="${x}"]`, 'left')));
    }
  }

  globals(now, before) {
    const rows = [];
    const m = (name) => (now.metrics || []).filter((x) => x.name === name);
    const v = (name) => m(name).reduce((a, x) => a + (x.value || 0), 0);
    if (m('gateway_memory_charged_bytes').length) {
      rows.push(el('div', { class: 'stat', 'data-stat': 'memory' }, el('span', { class: 'label' }, 'heap charged'),
        el('span', { class: 'value' }, `${bytes(v('gateway_memory_charged_bytes'))} of `
          + `${bytes(v('gateway_memory_charge_limit_bytes'))}${v('gateway_memory_limited') > 0 ? ' — LIMITED' : ''}`)));
    }
    if (m('gateway_routing_table_version').length) {
      rows.push(el('div', { class: 'stat', 'data-stat': 'routing-version' }, el('span', { class: 'label' },
        'routing table'), el('span', { class: 'value' }, `version ${v('gateway_routing_table_version')}`)));
    }
    const section = el('section', { class: 'card globals', 'aria-label': 'gateway' }, el('h3', {}, 'Gateway'),
      el('div', { class: 'stats' }, rows));
    if (now.cluster) {
      section.append(this.cluster(now));
    }
    return section;
  }

  cluster(now) {
    // As GET /cluster describes it: this member, the ring's members and their shares, forwarding and quorum.
    const c = now.cluster;
    const ring = Array.isArray(c.ring) ? c.ring : [];
    return el('div', { class: 'cluster', 'data-cluster': c.name || '' }, el('h4', {}, `Cluster ${c.name || ''}`),
      el('p', {}, `this member ${c.self}; ${ring.length} on the ring${c.quorum ? '' : ' — NO QUORUM (refusing traces)'}`
        + `${c.leaving ? ', leaving' : ''}${c.rejoining ? ', rejoining' : ''}; forward queue ${bytes(c.forward_queue_bytes)}`
        + ` (${c.transport}); replicas held ${human(c.replica_spans, 0)} spans, replication factor `
        + `${c.replication_factor}`),
      el('table', { class: 'metrics' },
        el('thead', {}, el('tr', {}, el('th', {}, 'member'), el('th', {}, 'ring share'))),
        el('tbody', {}, ring.map((m) => el('tr', { 'data-member': m.id }, el('td', {}, m.id, m.self ? ' (this one)' : ''),
          el('td', { class: 'num' }, `${(100 * m.share).toFixed(1)}%`))))));
  }
}
