// The dashboard: plain JavaScript over the scheduler's HTTP API (api.md), served from the jar.
// Everything the API returns is put into the page as text (textContent, text nodes), never as
// markup. The token, when the API asks for one, lives in this tab's sessionStorage and travels
// only as an Authorization header: the job's events are read with fetch() streaming, since
// EventSource cannot send headers.
'use strict';

const REFRESH_MS = 2000;
const RECONNECT_MS = 2000;
const TOKEN_KEY = 'jobscheduler.token';

const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------------------------------------
// The API

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

let loginWaiters = [];

function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

function headers(extra) {
  const h = Object.assign({}, extra);
  const t = token();
  if (t) {
    h['Authorization'] = 'Bearer ' + t;
  }
  return h;
}

/** Resolves once the user has given a token (the API answered 401). */
function needLogin(message) {
  $('login').hidden = false;
  setStatus(message || 'the scheduler asks for a token');
  $('token').focus();
  return new Promise((resolve) => loginWaiters.push(resolve));
}

async function errorOf(response) {
  try {
    const body = await response.json();
    if (body && typeof body.error === 'string') {
      return new ApiError(response.status, body.error);
    }
  } catch (e) {
    // not JSON: the status says it
  }
  return new ApiError(response.status, 'the scheduler answered ' + response.status);
}

/** A JSON call; a 401 waits for a token, then tries again. */
async function api(method, path, body) {
  for (;;) {
    const init = { method, headers: headers({ 'Accept': 'application/json' }), cache: 'no-store' };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (e) {
      throw new ApiError(0, 'cannot reach the scheduler');
    }
    if (response.status === 401) {
      await needLogin((await errorOf(response)).message);
      continue;
    }
    if (!response.ok) {
      throw await errorOf(response);
    }
    return response.json();
  }
}

// ---------------------------------------------------------------------------------------------
// Small helpers for the page

function setStatus(text) {
  $('status').textContent = text;
}

function text(value) {
  return value === null || value === undefined ? '-' : String(value);
}

/** A time of the API (RFC 3339) in the browser's zone; the date only when it is not today. */
function time(value) {
  if (!value) {
    return '-';
  }
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) {
    return value;
  }
  return d.toDateString() === new Date().toDateString() ? d.toLocaleTimeString() : d.toLocaleString();
}

function timeCell(row, value) {
  const td = cell(row, time(value));
  td.title = value || '';
  return td;
}

function cell(row, value, className) {
  const td = document.createElement('td');
  td.textContent = text(value);
  if (className) {
    td.className = className;
  }
  row.appendChild(td);
  return td;
}

function stateCell(row, state) {
  return cell(row, state, 'state state-' + state);
}

function shortId(id) {
  return id ? id.slice(0, 8) : '-';
}

function commandLine(job) {
  return [job.command, job.path].concat(job.args || []).filter((p) => p !== undefined && p !== null && p !== '')
    .map((p) => /[\s'"\\]/.test(p) ? JSON.stringify(p) : p).join(' ');
}

function exitOf(job) {
  if (job.exit_code !== null && job.exit_code !== undefined) {
    return String(job.exit_code);
  }
  if (job.signal !== null && job.signal !== undefined) {
    return 'signal ' + job.signal;
  }
  return '-';
}

function lines(value) {
  return value.split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l !== '');
}

function pairs(value, field) {
  const result = {};
  for (const line of lines(value)) {
    const eq = line.indexOf('=');
    if (eq <= 0) {
      throw new ApiError(0, field + ': "' + line + '" is not NAME=value');
    }
    result[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return result;
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    if (signal) {
      signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Overview: workers, jobs, start form

let workers = [];
const pages = [null];   // the cursor of each page walked so far; null is the first
let pageIndex = 0;
let refreshing = false;

function fillWorkerSelect(select, keepFirst) {
  const chosen = select.value;
  while (select.options.length > keepFirst) {
    select.remove(keepFirst);
  }
  for (const w of workers) {
    const option = document.createElement('option');
    option.value = w.id;
    option.textContent = shortId(w.id) + ' ' + w.address + (w.state === 'alive' ? '' : ' (' + w.state + ')');
    select.appendChild(option);
  }
  select.value = [...select.options].some((o) => o.value === chosen) ? chosen : select.options[0].value;
}

function showWorkers() {
  const body = $('workers').tBodies[0];
  body.replaceChildren();
  for (const w of workers) {
    const row = body.insertRow();
    row.dataset.id = w.id;
    cell(row, shortId(w.id)).title = w.id;
    cell(row, w.address);
    stateCell(row, w.state);
    const labels = w.labels ? Object.entries(w.labels).map(([k, v]) => k + '=' + v).join(', ') : '';
    cell(row, labels || '-');
    cell(row, w.running_jobs);
    timeCell(row, w.last_seen);
  }
  $('workers-empty').hidden = workers.length > 0;
  fillWorkerSelect($('start-worker'), 1);
  fillWorkerSelect($('filter-worker'), 1);
}

function filterQuery() {
  const params = new URLSearchParams();
  params.set('limit', $('filter-limit').value);
  for (const box of document.querySelectorAll('#filters input[name=state]:checked')) {
    params.append('state', box.value);
  }
  if ($('filter-worker').value) {
    params.set('worker_id', $('filter-worker').value);
  }
  for (const [id, name] of [['filter-since', 'since'], ['filter-until', 'until']]) {
    const value = $(id).value;
    if (value) {
      params.set(name, new Date(value).toISOString());
    }
  }
  if (pages[pageIndex]) {
    params.set('next', pages[pageIndex]);
  }
  return params.toString();
}

function showJobs(answer) {
  const body = $('jobs').tBodies[0];
  body.replaceChildren();
  for (const job of answer.jobs) {
    const row = body.insertRow();
    row.dataset.id = job.job_id;
    const link = document.createElement('a');
    link.href = '#job=' + encodeURIComponent(job.job_id);
    link.textContent = shortId(job.job_id);
    link.title = job.job_id;
    const first = document.createElement('td');
    first.appendChild(link);
    row.appendChild(first);
    stateCell(row, job.state);
    cell(row, exitOf(job));
    cell(row, shortId(job.worker_id)).title = job.worker_id;
    cell(row, commandLine(job) || '-', 'command');
    timeCell(row, job.started_at);
    timeCell(row, job.finished_at);
  }
  $('jobs-empty').hidden = answer.jobs.length > 0;
  pages.length = pageIndex + 1;
  if (answer.next) {
    pages.push(answer.next);
  }
  $('newer').disabled = pageIndex === 0;
  $('older').disabled = !answer.next;
  $('page').textContent = 'page ' + (pageIndex + 1);
}

async function refreshOverview() {
  if (refreshing || $('overview').hidden) {
    return;
  }
  refreshing = true;
  try {
    workers = (await api('GET', '/workers')).workers;
    showWorkers();
    showJobs(await api('GET', '/jobs?' + filterQuery()));
    setStatus('updated ' + new Date().toLocaleTimeString());
  } catch (e) {
    setStatus(e.message);
  } finally {
    refreshing = false;
  }
}

function restartPaging() {
  pages.length = 1;
  pageIndex = 0;
  refreshOverview();
}

async function startJob(event) {
  event.preventDefault();
  $('start-error').textContent = '';
  const body = { command: $('start-command').value };
  try {
    const args = lines($('start-args').value);
    if (args.length) {
      body.args = args;
    }
    const env = pairs($('start-env').value, 'environment');
    if (Object.keys(env).length) {
      body.env = env;
    }
    if ($('start-timeout').value.trim()) {
      body.timeout = $('start-timeout').value.trim();
    }
    if ($('start-worker').value) {
      body.worker_id = $('start-worker').value;   // "automatic" sends none: the scheduler places the job
    }
    const constraints = pairs($('start-constraints').value, 'constraints');
    if (Object.keys(constraints).length) {
      body.constraints = constraints;
    }
    $('start-submit').disabled = true;
    const started = await api('POST', '/start', body);
    location.hash = '#job=' + encodeURIComponent(started.job_id);
  } catch (e) {
    $('start-error').textContent = e.message;
  } finally {
    $('start-submit').disabled = false;
  }
}

// ---------------------------------------------------------------------------------------------
// A job's page: its events, read with fetch() streaming

let following = null;   // the AbortController of the job page's stream

function showJob(job) {
  $('job-state').textContent = text(job.state);
  $('job-state').className = 'state state-' + job.state;
  $('job-exit').textContent = exitOf(job);
  $('job-worker').textContent = text(job.worker_id);
  $('job-started').textContent = time(job.started_at);
  $('job-finished').textContent = time(job.finished_at);
  $('job-error').textContent = job.error_text || '-';
  $('stop').disabled = job.done;
}

/**
 * Parses a Server-Sent Events body as the HTML standard does and hands each event to onEvent;
 * answers true when the stream ended with its `end` event, false when it was cut.
 */
async function readEvents(body, onEvent) {
  const reader = body.getReader();
  const decoder = new TextDecoder('utf-8');
  let buffer = '';
  let event = { name: '', id: null, data: null };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) {
      return false;
    }
    buffer += decoder.decode(value, { stream: true });
    let newline;
    while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
      if (line === '') {
        if (event.data !== null) {
          if (onEvent(event.name || 'message', event.id, event.data)) {
            reader.cancel();
            return true;
          }
        }
        event = { name: '', id: event.id, data: null };
        continue;
      }
      if (line.startsWith(':')) {
        continue;
      }
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) {
        value = value.slice(1);
      }
      if (field === 'event') {
        event.name = value;
      } else if (field === 'id') {
        event.id = value;
      } else if (field === 'data') {
        event.data = event.data === null ? value : event.data + '\n' + value;
      }
    }
  }
}

function base64Bytes(data) {
  const binary = atob(data);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) {
    bytes[i] = binary.charCodeAt(i);
  }
  return bytes;
}

async function followJob(jobId, signal) {
  const output = $('output');
  const decoder = new TextDecoder('utf-8');   // output bytes as text; a character split across chunks stays whole
  let lastId = null;
  const path = '/jobs/' + encodeURIComponent(jobId) + '/events';
  while (!signal.aborted) {
    const extra = { 'Accept': 'text/event-stream' };
    if (lastId !== null) {
      extra['Last-Event-ID'] = lastId;   // resume exactly after the last byte shown
    }
    $('follow-state').textContent = lastId === null ? '(connecting)' : '(reconnecting)';
    let response;
    try {
      response = await fetch(path, { headers: headers(extra), cache: 'no-store', signal });
    } catch (e) {
      if (signal.aborted) {
        return;
      }
      await sleep(RECONNECT_MS, signal);
      continue;
    }
    if (response.status === 401) {
      await needLogin((await errorOf(response)).message);
      continue;
    }
    if (!response.ok) {
      const error = await errorOf(response);
      $('follow-state').textContent = '(' + error.message + ')';
      if (response.status === 503) {
        await sleep(RECONNECT_MS, signal);
        continue;
      }
      return;
    }
    $('follow-state').textContent = '(live)';
    let ended = false;
    try {
      ended = await readEvents(response.body, (name, id, data) => {
        if (name === 'output') {
          const atBottom = output.scrollTop + output.clientHeight >= output.scrollHeight - 4;
          output.appendChild(document.createTextNode(decoder.decode(base64Bytes(data), { stream: true })));
          if (atBottom) {
            output.scrollTop = output.scrollHeight;
          }
        } else if (name === 'state' || name === 'end') {
          showJob(JSON.parse(data));
        }
        if (id !== null) {
          lastId = id;
        }
        return name === 'end';
      });
    } catch (e) {
      if (signal.aborted) {
        return;
      }
    }
    if (ended) {
      output.appendChild(document.createTextNode(decoder.decode()));
      $('follow-state').textContent = '(ended)';
      return;
    }
    await sleep(RECONNECT_MS, signal);
  }
}

async function stopJob() {
  const jobId = $('job-id').textContent;
  $('stop-error').textContent = '';
  $('stop').disabled = true;
  try {
    await api('POST', '/stop', { job_id: jobId });
  } catch (e) {
    $('stop-error').textContent = e.message;
    $('stop').disabled = false;
  }
}

// ---------------------------------------------------------------------------------------------
// Which page: #job=<id> is a job, anything else the overview

function route() {
  if (following) {
    following.abort();
    following = null;
  }
  const match = /^#job=(.+)$/.exec(location.hash);
  $('overview').hidden = !!match;
  $('job-page').hidden = !match;
  if (!match) {
    refreshOverview();
    return;
  }
  const jobId = decodeURIComponent(match[1]);
  $('job-id').textContent = jobId;
  $('output').replaceChildren();
  $('stop-error').textContent = '';
  for (const id of ['job-state', 'job-exit', 'job-worker', 'job-started', 'job-finished', 'job-error']) {
    $(id).textContent = '';
  }
  following = new AbortController();
  followJob(jobId, following.signal);
}

document.addEventListener('DOMContentLoaded', () => {
  $('login-form').addEventListener('submit', (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $('token').value.trim());
    $('token').value = '';
    $('login').hidden = true;
    setStatus('');
    const waiters = loginWaiters;
    loginWaiters = [];
    waiters.forEach((resolve) => resolve());
  });
  $('start-form').addEventListener('submit', startJob);
  $('filters').addEventListener('change', restartPaging);
  $('filters').addEventListener('submit', (event) => event.preventDefault());
  $('older').addEventListener('click', () => { pageIndex = Math.min(pageIndex + 1, pages.length - 1); refreshOverview(); });
  $('newer').addEventListener('click', () => { pageIndex = Math.max(pageIndex - 1, 0); refreshOverview(); });
  $('stop').addEventListener('click', stopJob);
  window.addEventListener('hashchange', route);
  setInterval(refreshOverview, REFRESH_MS);
  route();
});
