// The record picker of a linked cell: a WAI-ARIA combobox (editable, list autocomplete) over
// GET …/suggestions. Every keystroke searches at once; each request has a sequence number and an
// answer is shown only if it is newer than the one on screen, so a slow, stale answer never
// replaces a newer one. When nothing matches, "Add a new record: <text>" creates the record in the
// linked table and stores it in the cell in one action.
import { api, ApiError, describe } from './api.js';
import { h } from './ui.js';

const LIMIT = 10;

/** Inserts the highlight of the API ("<em>…</em>" around matched prefixes, the rest HTML-escaped) as text nodes. */
export function highlighted(markup) {
  const out = [];
  const decode = s => s.replace(/&(lt|gt|quot|#39|#x27|amp);/g, (m, e) =>
    ({ lt: '<', gt: '>', quot: '"', '#39': "'", '#x27': "'", amp: '&' })[e]);
  const parts = String(markup).split(/(<em>.*?<\/em>)/);
  for (const p of parts) {
    if (!p) continue;
    if (p.startsWith('<em>')) out.push(h('mark', null, decode(p.slice(4, -5))));
    else out.push(decode(p));
  }
  return out;
}

/**
 * Opens the picker over a cell. ctx: {tableId, column, record, targetName, anchor (the cell),
 * initial (text typed to open it)}. Resolves to the updated record, or null when cancelled.
 */
export function openPicker(ctx) {
  return new Promise(resolve => {
    const id = 'picker-' + Math.random().toString(36).slice(2, 8);
    const input = h('input.picker-input', {
      type: 'text', id: id + '-input', role: 'combobox', 'aria-autocomplete': 'list', 'aria-expanded': 'true',
      'aria-controls': id + '-list', autocomplete: 'off', spellcheck: 'false',
      'aria-label': 'Find a record of ' + ctx.targetName + ' for ' + ctx.column.name,
      placeholder: 'Search ' + ctx.targetName + '…',
    });
    const list = h('ul.picker-list', { role: 'listbox', id: id + '-list', 'aria-label': 'Records of ' + ctx.targetName });
    const status = h('div.picker-status', { role: 'status', 'aria-live': 'polite' });
    const hint = h('div.picker-hint', null, '↑ ↓ move · Enter choose · Esc cancel');
    const box = h('div.picker', { 'data-column': ctx.column.id }, input, list, status, hint);

    let issued = 0;      // the sequence number of the last request sent
    let shown = 0;       // the sequence number of the answer on screen
    let options = [];    // [{el, choose: async () => record}]
    let active = -1;
    let chooseWhenCurrent = false;
    let busy = false;
    let closed = false;

    const place = () => {
      const r = ctx.anchor.getBoundingClientRect();
      const width = Math.min(Math.max(r.width, 320), window.innerWidth - 8);
      box.style.width = width + 'px';
      box.style.left = Math.round(Math.max(4, Math.min(r.left, window.innerWidth - width - 4))) + 'px';
      const below = window.innerHeight - r.bottom;
      if (below < 260 && r.top > below) {
        box.style.top = '';
        box.style.bottom = Math.round(window.innerHeight - r.top) + 'px';
      } else {
        box.style.bottom = '';
        box.style.top = Math.round(r.top) + 'px';
      }
    };

    const finish = result => {
      if (closed) return;
      closed = true;
      document.removeEventListener('mousedown', outside, true);
      window.removeEventListener('resize', place);
      box.remove();
      resolve(result);
    };
    const outside = e => { if (!box.contains(e.target)) finish(null); };

    const setActive = i => {
      if (options[active]) options[active].el.setAttribute('aria-selected', 'false');
      active = options.length ? (i + options.length) % options.length : -1;
      if (active >= 0) {
        const el = options[active].el;
        el.setAttribute('aria-selected', 'true');
        input.setAttribute('aria-activedescendant', el.id);
        if (el.offsetTop < list.scrollTop) list.scrollTop = el.offsetTop;
        else if (el.offsetTop + el.offsetHeight > list.scrollTop + list.clientHeight) {
          list.scrollTop = el.offsetTop + el.offsetHeight - list.clientHeight;
        }
      } else {
        input.removeAttribute('aria-activedescendant');
      }
    };

    const choose = async option => {
      if (busy) return;
      busy = true;
      box.setAttribute('aria-busy', 'true');
      try {
        finish(await option.choose());
      } catch (e) {
        status.textContent = describe(e);
        status.className = 'picker-status error';
      } finally {
        busy = false;
        box.removeAttribute('aria-busy');
      }
    };

    const store = value => api('PATCH', `/tables/${ctx.tableId}/records/${ctx.record.id}`,
      { values: { [ctx.column.id]: value } });

    const create = async text => {
      const path = `/tables/${ctx.tableId}/columns/${ctx.column.id}/suggestions`;
      try {
        const created = await api('POST', path, { text, recordId: ctx.record.id });
        if (created.record) return created.record;
        return store(created.value);
      } catch (e) {
        // A gateway without recordId in "add a new record" (it names the unknown field): create, then store.
        if (!(e instanceof ApiError && e.code === 'validation_failed' && e.errors.some(f => f.field === 'recordId'))) throw e;
        const created = await api('POST', path, { text });
        return store(created.value);
      }
    };

    const render = (seq, q, answer) => {
      list.replaceChildren();
      options = [];
      active = -1;
      answer.suggestions.forEach((s, i) => {
        const el = h('li.picker-option', { role: 'option', id: `${id}-opt-${i}`, 'aria-selected': 'false' },
          h('span.summary', null, highlighted(s.highlight || s.summary)),
          String(s.value) !== s.summary ? h('span.value', null, String(s.value)) : null);
        options.push({ el, choose: () => store(s.value) });
      });
      if (answer.createOption) {
        const text = answer.createOption.text;
        const el = h('li.picker-option.create', { role: 'option', id: `${id}-opt-new`, 'aria-selected': 'false' },
          h('span.plus', { 'aria-hidden': 'true' }, '+'), h('span', null, 'Add a new record: ', h('strong', null, text)));
        options.push({ el, choose: () => create(text) });
      }
      options.forEach((o, i) => {
        o.el.addEventListener('mousedown', e => { e.preventDefault(); setActive(i); choose(o); });
        list.append(o.el);
      });
      status.className = 'picker-status';
      status.textContent = answer.suggestions.length
        ? answer.suggestions.length + (answer.suggestions.length === 1 ? ' record' : ' records')
        : (answer.createOption ? 'No record matches' : 'No records yet');
      setActive(0);
      // The marker of a rendered answer (the browser test measures keystroke → this).
      list.dataset.q = q;
      list.dataset.seq = String(seq);
      if (chooseWhenCurrent && seq === issued) {
        chooseWhenCurrent = false;
        if (options[active]) choose(options[active]);
      }
    };

    const search = () => {
      const seq = ++issued;
      const q = input.value;
      box.classList.add('loading');
      api('GET', `/tables/${ctx.tableId}/columns/${ctx.column.id}/suggestions?limit=${LIMIT}&q=${encodeURIComponent(q)}`)
        .then(answer => {
          if (closed || seq <= shown) return; // a newer answer is already on screen
          shown = seq;
          render(seq, q, answer);
        }, e => {
          if (closed || seq <= shown) return;
          shown = seq;
          list.replaceChildren();
          options = [];
          status.textContent = describe(e);
          status.className = 'picker-status error';
        })
        .finally(() => { if (shown === issued) box.classList.remove('loading'); });
    };

    input.addEventListener('input', search);
    input.addEventListener('keydown', e => {
      if (e.key === 'ArrowDown') { e.preventDefault(); setActive(active + 1); }
      else if (e.key === 'ArrowUp') { e.preventDefault(); setActive(active - 1); }
      else if (e.key === 'Enter') {
        e.preventDefault();
        // Enter typed before the answer for the latest text arrived chooses from that answer.
        if (shown !== issued) chooseWhenCurrent = true;
        else if (options[active]) choose(options[active]);
      } else if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); finish(null); }
      else if (e.key === 'Tab') { finish(null); }
    });

    document.body.append(box);
    place();
    window.addEventListener('resize', place);
    document.addEventListener('mousedown', outside, true);
    input.value = ctx.initial || '';
    input.focus();
    search();
  });
}
