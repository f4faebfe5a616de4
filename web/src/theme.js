// Light and dark themes: follow prefers-color-scheme until the user picks one with the toggle;
// the pick is kept in localStorage. The effective theme is <html data-theme="light|dark">, and
// a "themechange" event on window tells charts to redraw with the new colours.

const KEY = 'vibekit.theme';
const media = window.matchMedia('(prefers-color-scheme: dark)');

export function storedTheme() {
  const v = localStorage.getItem(KEY);
  return v === 'light' || v === 'dark' ? v : null;
}

export function effectiveTheme() {
  return storedTheme() ?? (media.matches ? 'dark' : 'light');
}

function apply() {
  const theme = effectiveTheme();
  if (document.documentElement.dataset.theme !== theme) {
    document.documentElement.dataset.theme = theme;
    window.dispatchEvent(new CustomEvent('themechange', { detail: theme }));
  }
}

export function initTheme(button) {
  apply();
  media.addEventListener('change', apply);
  const label = () => {
    const next = effectiveTheme() === 'dark' ? 'light' : 'dark';
    button.textContent = next === 'dark' ? '☾' : '☀';
    button.title = `Switch to the ${next} theme`;
    button.setAttribute('aria-label', button.title);
  };
  label();
  button.addEventListener('click', () => {
    localStorage.setItem(KEY, effectiveTheme() === 'dark' ? 'light' : 'dark');
    apply();
    label();
  });
  window.addEventListener('themechange', label);
}

// A CSS custom property of the current theme (for chart colours).
export function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}
