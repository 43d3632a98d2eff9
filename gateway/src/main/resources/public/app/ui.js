// Small DOM helpers shared by the screens: element building (text only: user data never goes
// through innerHTML), modal dialogs on the native <dialog>, menus and the status toast.
import { describe } from './api.js';

/** h('button.primary', {onclick}, 'text', child...) */
export function h(tag, props, ...children) {
  if (props instanceof Node || typeof props === 'string') { // h('div', child, ...): no props
    children.unshift(props);
    props = null;
  }
  const [name, ...classes] = tag.split('.');
  const el = document.createElement(name || 'div');
  if (classes.length) el.className = classes.join(' ');
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k === 'style') el.style.cssText = v; // CSSOM: allowed by the page's CSP, unlike a style attribute
      else if (k in el && typeof v !== 'string') el[k] = v;
      else el.setAttribute(k, v === true ? '' : v);
    }
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

let toastTimer;

/** A short message in the status line (role=alert for errors). */
export function toast(message, kind = 'info') {
  const el = document.getElementById('toast');
  el.textContent = message;
  el.className = 'toast ' + kind;
  el.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, kind === 'error' ? 8000 : 3000);
}

export function toastError(err) {
  toast(describe(err), 'error');
}

/**
 * A modal dialog. content: a Node; actions: [{label, primary?, danger?, run: async () => result}].
 * An action that throws keeps the dialog open and shows the error in it; its result closes the
 * dialog and resolves the promise. Escape or "Cancel" resolves null.
 */
export function dialog(title, content, actions, options = {}) {
  return new Promise(resolve => {
    const error = h('p.dialog-error', { role: 'alert', hidden: true });
    const buttons = actions.map(a => h('button' + (a.primary ? '.primary' : '') + (a.danger ? '.danger' : ''),
      { type: a.primary ? 'submit' : 'button', id: a.id }, a.label));
    const cancel = h('button', { type: 'button' }, 'Cancel');
    const form = h('form.dialog-form', { method: 'dialog' },
      h('h2', { id: 'dialog-title' }, title), content, error, h('div.dialog-actions', null, cancel, ...buttons));
    const dlg = h('dialog.modal' + (options.wide ? '.wide' : ''), { 'aria-labelledby': 'dialog-title' }, form);
    let done = false;
    const finish = result => {
      if (done) return;
      done = true;
      dlg.close();
      dlg.remove();
      resolve(result);
    };
    const run = async action => {
      error.hidden = true;
      buttons.forEach(b => { b.disabled = true; });
      try {
        finish(await action.run());
      } catch (e) {
        error.textContent = describe(e);
        error.hidden = false;
      } finally {
        buttons.forEach(b => { b.disabled = false; });
      }
    };
    actions.forEach((a, i) => {
      if (!a.primary) buttons[i].addEventListener('click', () => run(a));
    });
    form.addEventListener('submit', e => {
      e.preventDefault();
      const primary = actions.find(a => a.primary);
      if (primary && !buttons[actions.indexOf(primary)].disabled) run(primary);
    });
    cancel.addEventListener('click', () => finish(null));
    dlg.addEventListener('cancel', e => { e.preventDefault(); finish(null); });
    document.body.append(dlg);
    dlg.showModal();
    if (options.onOpen) options.onOpen(dlg, { buttons, error });
    const first = dlg.querySelector('[autofocus]') || dlg.querySelector('input, select, textarea') || buttons[0];
    if (first) first.focus();
  });
}

/** Asks for one line of text; run(value) does the work (its error keeps the dialog open). */
export function prompt(title, label, value, run, okLabel = 'Save') {
  const input = h('input', { type: 'text', value: value || '', id: 'prompt-input', autocomplete: 'off', maxlength: 120, required: true });
  const content = h('label.field', null, h('span', null, label), input);
  return dialog(title, content, [{ label: okLabel, primary: true, id: 'prompt-ok', run: () => run(input.value.trim()) }]);
}

export function confirm(title, message, okLabel, run, danger = true) {
  return dialog(title, h('p', null, message), [{ label: okLabel, primary: true, danger, id: 'confirm-ok', run }]);
}

/**
 * A popup menu (WAI-ARIA menu button pattern) next to anchor: items [{label, run, id}]; arrow
 * keys move, Enter/Space choose, Escape or a click elsewhere closes and gives focus back.
 */
export function menu(anchor, label, items) {
  closeMenus();
  const list = h('ul.menu', { role: 'menu', 'aria-label': label });
  const entries = items.map(item => {
    const li = h('li', { role: 'menuitem', tabindex: -1, id: item.id, class: item.danger ? 'danger' : '' }, item.label);
    // Focus goes back to the menu's button first, so a dialog the item opens returns focus there.
    li.addEventListener('click', () => { close(); anchor.focus(); item.run(); });
    list.append(li);
    return li;
  });
  const r = anchor.getBoundingClientRect();
  list.style.top = Math.round(r.bottom + window.scrollY + 2) + 'px';
  list.style.left = Math.round(Math.max(4, Math.min(r.left, window.innerWidth - 260))) + 'px';
  document.body.append(list);
  anchor.setAttribute('aria-expanded', 'true');
  let index = 0;
  const focus = i => { index = (i + entries.length) % entries.length; entries[index].focus(); };
  list.addEventListener('keydown', e => {
    if (e.key === 'ArrowDown') { e.preventDefault(); focus(index + 1); }
    else if (e.key === 'ArrowUp') { e.preventDefault(); focus(index - 1); }
    else if (e.key === 'Home') { e.preventDefault(); focus(0); }
    else if (e.key === 'End') { e.preventDefault(); focus(entries.length - 1); }
    else if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); entries[index].click(); }
    else if (e.key === 'Escape' || e.key === 'Tab') { e.preventDefault(); close(); anchor.focus(); }
  });
  const outside = e => { if (!list.contains(e.target) && e.target !== anchor) close(); };
  function close() {
    document.removeEventListener('mousedown', outside, true);
    anchor.setAttribute('aria-expanded', 'false');
    list.remove();
  }
  list.closeMenu = close;
  document.addEventListener('mousedown', outside, true);
  focus(0);
}

export function closeMenus() {
  document.querySelectorAll('ul.menu').forEach(m => m.closeMenu && m.closeMenu());
}
