// Cairn's operator console: plain DOM, no framework. Every text from the API goes into the page as textContent
// (through el() below), never as markup, so a status message holding <script> shows as text.
// This module holds what the pages share: the DOM helpers, the API client, confirmations, the runs filter, states.

export const STATUSES = ['Pending', 'Running', 'WaitingForRetry', 'Waiting', 'Interrupted', 'Completed', 'Failed', 'Cancelled', 'Compensated'];
// As the operator API's rules (StoreRules): the buttons the status forbids are turned off; the server decides anyway.
export const RERUNNABLE = ['Failed', 'WaitingForRetry', 'Waiting', 'Interrupted', 'Cancelled'];
export const UNCANCELLABLE = ['Completed', 'Cancelled', 'Compensated'];
export const POLL_MS = 3000;
export const PAGE_SIZE = 25;

export const main = document.getElementById('main');
const errorBox = document.getElementById('error');

// The list's filter, shared with the bulk repair page ("with the current filter").
export const filter = { status: '', flow: '', recoveryId: '' };
// busy: a dialog or an edit is open, and the poller leaves the page alone.
export const page = { busy: false };
let token = null; // The anti-forgery token's promise.

// el('td', { class: 'x', onclick: f }, 'text', child...): strings become text nodes, never markup.
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  return add(node, children);
}

// Replaces a node's children; arrays nest freely, null and false are skipped, strings become text.
export function fill(node, ...children) {
  node.textContent = '';
  return add(node, children);
}

function add(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function time(value) {
  if (!value) return '';
  const date = new Date(value);
  return isNaN(date) ? String(value) : date.toLocaleString();
}

export function badge(status) {
  return el('span', { class: 'status status-' + status, 'data-status': status }, status);
}

// A run's last error explains its status only while it has not recovered since.
export function failing(run) {
  return !!run.lastError && ['Failed', 'WaitingForRetry', 'Interrupted'].includes(run.status);
}

export function showError(message) {
  errorBox.textContent = message;
  errorBox.hidden = !message;
}

export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== '') search.set(key, value);
  }
  const text = search.toString();
  return text ? '?' + text : '';
}

// One request for the token however many writes want it at once: each answer sets a new cookie, which would not
// match the token another write holds.
export function antiforgery() {
  if (!token) {
    token = fetch('api/antiforgery', { credentials: 'same-origin', headers: { Accept: 'application/json' } }).then(response => {
      if (!response.ok) throw new Error('Could not get the anti-forgery token (HTTP ' + response.status + ')');
      return response.json();
    });
    token.catch(() => { token = null; });
  }
  return token;
}

// Calls the API with a URL relative to the console's prefix; a write sends the anti-forgery token.
export async function api(path, options) {
  const method = (options && options.method) || 'GET';
  const headers = { Accept: 'application/json' };
  let body;
  if (options && options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  for (let attempt = 0; ; attempt++) {
    if (method !== 'GET') {
      const t = await antiforgery();
      headers[t.headerName] = t.token;
    }
    const response = await fetch('api/' + path, { method, headers, body, credentials: 'same-origin' });
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = null; }
    if (response.ok) return data;
    if (method !== 'GET' && attempt === 0 && response.status === 400 && data && /anti-forgery/i.test(data.title || '')) {
      token = null; // Expired or rotated: fetch a fresh one and try once more.
      continue;
    }
    if (response.status === 401) throw new Error('Not signed in, or the session has ended (HTTP 401): reload the page to sign in.');
    const detail = data && (data.detail || data.title);
    throw new Error((detail || 'HTTP ' + response.status) + (detail ? ' (HTTP ' + response.status + ')' : ''));
  }
}

// A modal confirmation; resolves true when the operator confirms.
function confirmAction(title, text, verb) {
  const dialog = document.getElementById('confirm');
  document.getElementById('confirm-title').textContent = title;
  document.getElementById('confirm-text').textContent = text;
  const yes = document.getElementById('confirm-yes');
  const no = document.getElementById('confirm-no');
  yes.textContent = verb || 'Confirm';
  page.busy = true;
  return new Promise(resolve => {
    function done(answer) {
      yes.removeEventListener('click', onYes);
      no.removeEventListener('click', onNo);
      dialog.removeEventListener('cancel', onNo);
      if (dialog.open) dialog.close();
      page.busy = false;
      resolve(answer);
    }
    function onYes() { done(true); }
    function onNo() { done(false); }
    yes.addEventListener('click', onYes);
    no.addEventListener('click', onNo);
    dialog.addEventListener('cancel', onNo);
    dialog.showModal();
  });
}

export async function act(title, text, verb, call, after) {
  if (!await confirmAction(title, text, verb)) return;
  try {
    const result = await call();
    showError('');
    if (after) await after(result);
  } catch (e) {
    showError(e.message);
  }
}

export function filterControls(flows, onChange) {
  const status = el('select', { id: 'filter-status', 'aria-label': 'Status' },
    el('option', { value: '' }, 'All statuses'),
    STATUSES.map(s => el('option', { value: s, selected: filter.status === s }, s)));
  const flow = el('select', { id: 'filter-flow', 'aria-label': 'Flow' },
    el('option', { value: '' }, 'All flows'),
    [...new Set(flows.map(f => f.name))].map(name => el('option', { value: name, selected: filter.flow === name }, name)));
  if (filter.flow && !flows.some(f => f.name === filter.flow)) flow.append(el('option', { value: filter.flow, selected: true }, filter.flow));
  const search = el('input', { id: 'filter-recovery-id', type: 'search', placeholder: 'Recovery ID', value: filter.recoveryId, 'aria-label': 'Recovery ID' });
  function apply() {
    filter.status = status.value;
    filter.flow = flow.value;
    filter.recoveryId = search.value.trim();
    onChange();
  }
  status.addEventListener('change', apply);
  flow.addEventListener('change', apply);
  search.addEventListener('keydown', e => { if (e.key === 'Enter') apply(); });
  return el('div', { class: 'filters' }, status, flow, search, el('button', { type: 'button', id: 'filter-apply', onclick: apply }, 'Apply'));
}

export function filterParams() {
  return { status: filter.status, flow: filter.flow, recoveryId: filter.recoveryId };
}

export async function flowsOrNone() {
  try { return await api('flows'); } catch { return []; }
}

export function pretty(text) {
  try { return JSON.stringify(JSON.parse(text), null, 2); } catch { return text; }
}

export function showState(box, view, caption) {
  if (!view) {
    fill(box, el('p', { class: 'muted' }, 'No state: the run has no checkpoint.'));
    return;
  }
  if (!view.shown) {
    fill(box, el('p', { class: 'muted state-hidden' }, 'State not shown: ' + (view.reason || 'turned off') + '.'));
    return;
  }
  const checksum = view.checksumMatches === true ? el('span', { class: 'ok', id: 'checksum' }, 'checksum verified')
    : view.checksumMatches === false ? el('span', { class: 'bad', id: 'checksum' }, 'checksum MISMATCH: the state is corrupted')
      : null;
  fill(box, 
    el('p', { class: 'state-meta' }, caption ? caption + ' · ' : '', view.size + ' bytes', checksum ? [' · ', checksum] : null,
      view.truncated ? el('span', { class: 'bad' }, ' · cut to the console\'s limit') : null,
      view.redacted ? el('span', { class: 'muted' }, ' · redacted') : null),
    el('pre', { class: 'json' }, view.truncated ? view.text : pretty(view.text)));
}

// A .NET TimeSpan as JSON ("30.00:00:00", "01:00:00") in words.
export function duration(text) {
  const match = /^(?:(\d+)\.)?(\d+):(\d+):(\d+)/.exec(text || '');
  if (!match) return String(text);
  const [days, hours, minutes, seconds] = match.slice(1).map(v => Number(v || 0));
  const parts = [[days, 'day'], [hours, 'hour'], [minutes, 'minute'], [seconds, 'second']].filter(p => p[0] > 0).map(p => p[0] + ' ' + p[1] + (p[0] === 1 ? '' : 's'));
  return parts.length ? parts.join(' ') : '0 seconds';
}
