// Where each JSON path lies in a text, so a problem the API reports at "rules[1].exporters[0]" can be shown at
// its place in the editor. A small parser that records offsets; JSON.parse stays the judge of validity.

/** Map of path → {start, end} (character offsets of the value) for every value in `text`; null if it is not JSON. */
export function locate(text) {
  const spots = new Map();
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\r\n'.includes(text[i])) {
      i++;
    }
  };
  const str = () => {
    const start = i++;
    while (i < text.length && text[i] !== '"') {
      i += text[i] === '\\' ? 2 : 1;
    }
    i++;
    return JSON.parse(text.slice(start, i));
  };
  const value = (path) => {
    ws();
    const start = i;
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
      } else {
        for (;;) {
          ws();
          const key = str();
          ws();
          i++; // ':'
          value(/^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? (path ? `${path}.${key}` : key) : `${path}[${JSON.stringify(key)}]`);
          ws();
          if (text[i++] === '}') {
            break;
          }
        }
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
      } else {
        for (let n = 0; ; n++) {
          value(`${path}[${n}]`);
          ws();
          if (text[i++] === ']') {
            break;
          }
        }
      }
    } else if (c === '"') {
      str();
    } else {
      while (i < text.length && !',]} \t\r\n'.includes(text[i])) {
        i++;
      }
    }
    spots.set(path, { start, end: i });
  };
  try {
    JSON.parse(text);
    value('');
    return spots;
  } catch (e) {
    return null;
  }
}

/** The JSON path a problem message starts with ("rules[0].id: is required" → "rules[0].id"), or ''. */
export function problemPath(problem) {
  const m = /^((?:[A-Za-z_][A-Za-z0-9_]*|\[[^\]]*\])(?:\.[A-Za-z_][A-Za-z0-9_]*|\[[^\]]*\])*):\s/.exec(problem);
  return m ? m[1] : '';
}

/** The closest located path: the problem's own, else its nearest parent that exists. */
export function nearest(spots, path) {
  let p = path;
  while (p) {
    if (spots.has(p)) {
      return { path: p, ...spots.get(p) };
    }
    const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
    p = cut > 0 ? p.slice(0, cut) : '';
  }
  return spots.has('') ? { path: '', ...spots.get('') } : null;
}

/** Line and column (1-based) of an offset. */
export function lineCol(text, offset) {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

/** The offset JSON.parse's message points at, when it gives one (V8: "at position N" or "line L column C"). */
export function syntaxErrorOffset(text, error) {
  const pos = /position (\d+)/.exec(error.message);
  if (pos) {
    return Number(pos[1]);
  }
  const lc = /line (\d+) column (\d+)/.exec(error.message);
  if (lc) {
    const lines = text.split('\n');
    let off = 0;
    for (let l = 0; l < Number(lc[1]) - 1 && l < lines.length; l++) {
      off += lines[l].length + 1;
    }
    return off + Number(lc[2]) - 1;
  }
  return -1;
}
