// The public HTTP API (/api/v1, same origin), and nothing else. Every call sends the signed-in
// token as "Authorization: Bearer"; errors come back as ApiError with the problem's code.

const TOKEN_KEY = 'linkbase.token';

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(t) {
  sessionStorage.setItem(TOKEN_KEY, t);
}

export function clearToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** The claims of a JWT (not verified here: the gateway verifies every call), or null. */
export function claims(jwt) {
  const parts = (jwt || '').split('.');
  if (parts.length !== 3) return null;
  try {
    const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(b64 + '='.repeat((4 - b64.length % 4) % 4)), c => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}

export class ApiError extends Error {
  constructor(status, problem, retryAfter) {
    super((problem && (problem.detail || problem.title)) || ('HTTP ' + status));
    this.status = status;
    this.code = problem && problem.code;
    this.detail = problem && problem.detail;
    this.errors = (problem && problem.errors) || [];
    this.retryAfter = retryAfter;
  }
}

/** An integer or decimal typed by the user, sent as a JSON number without going through a double. */
export class NumberText {
  constructor(text) {
    this.text = text;
  }
}

// A mark no typed text contains (it starts with NUL and is random per page load).
const NUMBER_MARK = 'num' + crypto.getRandomValues(new Uint32Array(2)).join('') + ':';
const NUMBER_RE = new RegExp('"\\\\u0000' + NUMBER_MARK + '(-?[0-9.eE+-]+)"', 'g');

function body(value) {
  const json = JSON.stringify(value, (k, v) => (v instanceof NumberText ? '\u0000' + NUMBER_MARK + v.text : v));
  return json.replace(NUMBER_RE, '$1');
}

export async function api(method, path, payload, options = {}) {
  const headers = { Accept: 'application/json', Authorization: 'Bearer ' + (token() || '') };
  if (payload !== undefined) headers['Content-Type'] = 'application/json';
  if (options.ifMatch !== undefined) headers['If-Match'] = '"' + options.ifMatch + '"';
  let response;
  try {
    response = await fetch('/api/v1' + path, {
      method,
      headers,
      body: payload === undefined ? undefined : body(payload),
      signal: options.signal,
      cache: 'no-store',
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, { code: 'network', detail: 'the server cannot be reached' });
  }
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const err = new ApiError(response.status, data, response.headers.get('Retry-After'));
    if (response.status === 401) window.dispatchEvent(new CustomEvent('linkbase:unauthorized', { detail: err }));
    return Promise.reject(err);
  }
  return data;
}

const WORDS = {
  network: 'The server cannot be reached. Is Linkbase running?',
  unauthorized: 'Your token was refused (expired or not signed with this server\'s secret).',
  forbidden: 'Your role does not allow this.',
  tenant_not_provisioned: 'This tenant is not provisioned yet: ask a platform admin to create it.',
  not_found: 'It does not exist any more (deleted meanwhile?).',
  link_target_in_use: 'This is the target of a link from another column. Remove that link first.',
  restricted_by_link: 'Other records link to this one, and their link says "restrict". Change or delete them first.',
  link_target_not_unique: 'That column is neither the primary key nor unique, so it cannot be linked to.',
  version_conflict: 'Someone changed this table meanwhile. It has been reloaded; try again.',
  payload_too_large: 'That is too large for one request.',
};

/** What went wrong, in words a person understands (the API's own detail included where it helps). */
export function describe(err) {
  if (!(err instanceof ApiError)) return String(err && err.message ? err.message : err);
  if (err.code === 'rate_limited') {
    return 'Too many requests just now' + (err.retryAfter ? '; try again in ' + err.retryAfter + ' s.' : '.');
  }
  if (err.code === 'validation_failed' || err.code === 'limit_exceeded' || err.code === 'conflict') {
    const fields = err.errors.map(e => e.message).filter(Boolean);
    return fields.length ? fields.join('; ') : (err.detail || 'That was refused.');
  }
  const words = WORDS[err.code];
  if (words) return err.detail && err.code !== 'network' ? words + ' (' + err.detail + ')' : words;
  return err.detail || err.message;
}
