// DOM building without innerHTML: every piece of data goes in as a text node or an attribute
// value, so prompts and outputs that contain markup or code are shown, never interpreted.

// h('div', {class: 'x', dataset: {id}, onclick: fn}, 'text', childNode, [more...])
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'class') el.className = value;
      else if (key === 'dataset') Object.assign(el.dataset, value);
      else if (key.startsWith('on') && typeof value === 'function') {
        el.addEventListener(key.slice(2), value);
      } else if (key === 'value') el.value = value;
      else el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function replace(el, ...children) {
  clear(el);
  append(el, children);
  return el;
}

// A link to a route of this page; ids are URI-encoded so any session id makes a valid hash.
export function routeLink(path, text, attrs = {}) {
  return h('a', { href: `#${path}`, ...attrs }, text);
}

export function sessionHref(id) {
  return `#/sessions/${encodeURIComponent(id)}`;
}

export function errorBox(message) {
  return h('div', { class: 'error-box', role: 'alert' }, message);
}
