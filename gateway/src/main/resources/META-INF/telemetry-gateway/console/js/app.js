// The console's shell: token sign-in, hash routing between pages, one live page at a time.
import { get, setToken, token, ApiError } from './api.js';
import { clear } from './dom.js';
import { TopologyPage } from './topology.js';
import { RoutesPage } from './routes.js';
import { SlosPage } from './slos.js';

const PAGES = { topology: TopologyPage, routes: RoutesPage, slos: SlosPage };
const page = document.getElementById('page');
const login = document.getElementById('login');
const status = document.getElementById('status');
let current = null;

export function say(text, kind) {
  status.textContent = text || '';
  status.className = kind || '';
}

function showLogin(message) {
  if (current) {
    current.stop();
    current = null;
  }
  clear(page);
  login.hidden = false;
  document.getElementById('sign-out').hidden = true;
  document.getElementById('login-error').textContent = message || '';
  document.getElementById('token').focus();
}

async function show() {
  if (!token()) {
    showLogin();
    return;
  }
  login.hidden = true;
  document.getElementById('sign-out').hidden = false;
  const name = (location.hash.replace(/^#\//, '') || 'topology').split('?')[0];
  const Page = PAGES[name] || TopologyPage;
  for (const key of Object.keys(PAGES)) {
    const link = document.getElementById(`nav-${key}`);
    if (key === name) {
      link.setAttribute('aria-current', 'page');
    } else {
      link.removeAttribute('aria-current');
    }
  }
  if (current) {
    current.stop();
  }
  clear(page);
  current = new Page(page, say);
  try {
    await current.start();
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) {
      say(`Could not load the page: ${e.message}`, 'error');
    }
  }
}

login.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const t = document.getElementById('token').value.trim();
  setToken(t);
  try {
    await get('/api/v1/topology');
    document.getElementById('token').value = '';
    show();
  } catch (e) {
    setToken(null);
    document.getElementById('login-error').textContent = e instanceof ApiError
      ? `The gateway said: ${e.message}` : `Cannot reach the gateway: ${e.message}`;
  }
});

document.getElementById('sign-out').addEventListener('click', () => {
  setToken(null);
  showLogin();
});

window.addEventListener('console:unauthorized', (ev) => {
  setToken(null);
  showLogin(`The token was refused: ${ev.detail.message}`);
});
window.addEventListener('hashchange', show);
show();
