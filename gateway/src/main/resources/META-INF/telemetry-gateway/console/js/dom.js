// Tiny DOM helpers: elements are built with text nodes only (never innerHTML), so data cannot inject markup.

export function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) {
      continue;
    }
    if (k.startsWith('on')) {
      e.addEventListener(k.slice(2), v);
    } else if (k === 'class') {
      e.className = v;
    } else if (v === true) {
      e.setAttribute(k, '');
    } else {
      e.setAttribute(k, String(v));
    }
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) {
      continue;
    }
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

export function svg(tag, attrs, ...children) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    e.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c !== null && c !== undefined) {
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
  }
  return e;
}

export function clear(node) {
  while (node.firstChild) {
    node.removeChild(node.firstChild);
  }
  return node;
}

const UNITS = ['', 'k', 'M', 'G', 'T'];

/** 12345 → "12.3k"; rates and counts the way a dashboard shows them. */
export function human(n, digits = 1) {
  if (n === null || n === undefined || Number.isNaN(n)) {
    return '–';
  }
  let v = Math.abs(n);
  let i = 0;
  while (v >= 1000 && i < UNITS.length - 1) {
    v /= 1000;
    i++;
  }
  const s = (i === 0 && Number.isInteger(v)) ? String(v) : v.toFixed(v >= 100 ? 0 : digits);
  return (n < 0 ? '-' : '') + s + UNITS[i];
}

export function bytes(n) {
  if (n === null || n === undefined) {
    return '–';
  }
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < u.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${u[i]}`;
}

export function seconds(s) {
  if (s === null || s === undefined || !Number.isFinite(s)) {
    return '–';
  }
  if (s < 1) {
    return `${Math.round(s * 1000)} ms`;
  }
  if (s < 120) {
    return `${s.toFixed(1)} s`;
  }
  if (s < 7200) {
    return `${Math.round(s / 60)} min`;
  }
  if (s < 172800) {
    return `${(s / 3600).toFixed(1)} h`;
  }
  return `${(s / 86400).toFixed(1)} d`;
}
