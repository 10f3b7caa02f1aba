// An accessibility audit of the page as it is on screen, run in the browser by the e2e tests.
// It checks what WCAG 2.1 AA asks that a script can decide: every control has an accessible
// name, charts have a text alternative, no positive tabindex breaks the focus order, the page
// has a language, a main landmark and one h1, and text contrast is at least 4.5:1 (3:1 for large
// text and for chart marks' labels drawn large). Returns a list of problems, empty when clean.
// `arguments[0]`: when true, the dark colour scheme's custom properties are applied first;
// `arguments[1]`: how many text elements at least must be on screen (so a blank page fails).
const dark = arguments[0];
const minText = arguments[1];
const problems = [];

if (dark) {
  // The stylesheet's dark scheme, applied as if the system asked for it.
  for (const sheet of document.styleSheets) {
    let rules;
    try { rules = sheet.cssRules; } catch (e) { continue; }
    for (const rule of rules) {
      if (rule.media && /prefers-color-scheme:\s*dark/.test(rule.media.mediaText)) {
        for (const inner of rule.cssRules) {
          if (inner.selectorText === ':root') {
            for (const name of inner.style) {
              document.documentElement.style.setProperty(name, inner.style.getPropertyValue(name));
            }
          }
        }
      }
    }
  }
}

function visible(el) {
  if (!(el instanceof Element)) return false;
  if (el.closest('.visually-hidden, [hidden], [aria-hidden="true"]')) return false;
  const s = getComputedStyle(el);
  if (s.visibility === 'hidden' || s.display === 'none') return false;
  return el.getClientRects().length > 0;
}

function describe(el) {
  const id = el.id ? '#' + el.id : '';
  const test = el.getAttribute('data-testid');
  const cls = typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\s+/).join('.') : '';
  const text = (el.textContent || '').trim().replace(/\s+/g, ' ').slice(0, 40);
  return `<${el.tagName.toLowerCase()}${id}${cls}${test ? `[data-testid=${test}]` : ''}> "${text}"`;
}

function accessibleName(el) {
  const label = el.getAttribute('aria-label');
  if (label && label.trim()) return label.trim();
  const by = el.getAttribute('aria-labelledby');
  if (by) {
    const t = by.split(/\s+/).map((id) => document.getElementById(id)?.textContent || '').join(' ').trim();
    if (t) return t;
  }
  if (el.labels && el.labels.length) {
    const t = Array.from(el.labels).map((l) => l.textContent).join(' ').trim();
    if (t) return t;
  }
  if (el.tagName === 'INPUT' && ['button', 'submit', 'reset'].includes(el.type) && el.value.trim()) return el.value.trim();
  if (['BUTTON', 'A', 'SUMMARY', 'OPTION'].includes(el.tagName) || el.getAttribute('role') === 'button') {
    const t = (el.textContent || '').trim();
    if (t) return t;
  }
  const title = el.getAttribute('title');
  if (title && title.trim()) return title.trim();
  return '';
}

// Names: every control, visible or reachable by keyboard (a visually hidden file input counts).
for (const el of document.querySelectorAll('input, select, textarea, button, a[href], [role="button"], [tabindex]')) {
  if (el.type === 'hidden' || el.closest('[hidden], [aria-hidden="true"]')) continue;
  const reachable = visible(el) || (el.tabIndex >= 0 && !el.disabled);
  if (reachable && !accessibleName(el)) problems.push(`no accessible name: ${describe(el)}`);
  if (el.tabIndex > 0) problems.push(`positive tabindex ${el.tabIndex} breaks the focus order: ${describe(el)}`);
}

// Charts: a text alternative for each SVG that is not decoration.
for (const svg of document.querySelectorAll('svg')) {
  if (!visible(svg) || svg.getAttribute('aria-hidden') === 'true') continue;
  const titled = svg.querySelector(':scope > title');
  if (!(svg.getAttribute('role') === 'img' && (svg.getAttribute('aria-label') || titled))) {
    problems.push(`chart without role="img" and a label: ${describe(svg.parentElement || svg)}`);
  }
}
for (const img of document.querySelectorAll('img')) {
  if (visible(img) && !img.hasAttribute('alt')) problems.push(`image without alt: ${describe(img)}`);
}

// The document.
if (!document.documentElement.lang) problems.push('no lang on <html>');
if (!document.querySelector('main')) problems.push('no <main> landmark');
const h1 = Array.from(document.querySelectorAll('h1')).filter(visible);
if (h1.length !== 1) problems.push(`${h1.length} visible h1 elements, want 1`);

// Contrast.
function rgba(c) {
  const m = /rgba?\(([^)]+)\)/.exec(c);
  if (!m) return null;
  const p = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
  return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
}
function over(top, bottom) {
  const a = top.a + bottom.a * (1 - top.a);
  if (a === 0) return { r: 0, g: 0, b: 0, a: 0 };
  const mix = (x, y) => (x * top.a + y * bottom.a * (1 - top.a)) / a;
  return { r: mix(top.r, bottom.r), g: mix(top.g, bottom.g), b: mix(top.b, bottom.b), a };
}
function luminance(c) {
  const ch = (v) => {
    v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  };
  return 0.2126 * ch(c.r) + 0.7152 * ch(c.g) + 0.0722 * ch(c.b);
}
function background(el) {
  // The colours behind the element, composed from the nearest opaque ancestor up.
  const layers = [];
  for (let e = el; e; e = e.parentElement) {
    const s = getComputedStyle(e);
    if (s.backgroundImage && s.backgroundImage !== 'none') return null; // a gradient or image: undecidable here
    const c = rgba(s.backgroundColor);
    if (c && c.a > 0) {
      layers.push(c);
      if (c.a >= 1) break;
    }
  }
  let bg = { r: 255, g: 255, b: 255, a: 1 };
  if (!layers.length || layers[layers.length - 1].a < 1) {
    const root = rgba(getComputedStyle(document.documentElement).backgroundColor);
    const body = rgba(getComputedStyle(document.body).backgroundColor);
    if (body && body.a > 0) bg = over(body, bg);
    else if (root && root.a > 0) bg = over(root, bg);
  }
  for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
  return bg;
}
function opacity(el) {
  let o = 1;
  for (let e = el; e; e = e.parentElement) o *= Number(getComputedStyle(e).opacity);
  return o;
}

let checked = 0;
for (const el of document.body.querySelectorAll('*')) {
  const own = Array.from(el.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim());
  if (!own || !visible(el)) continue;
  if (el.closest(':disabled, [aria-disabled="true"]')) continue; // WCAG exempts inactive controls
  if (el.closest('svg') && el.tagName.toLowerCase() !== 'text') continue;
  const s = getComputedStyle(el);
  const inSvg = el.tagName.toLowerCase() === 'text';
  let fg = rgba(inSvg ? s.fill : s.color);
  const host = inSvg ? el.closest('svg').parentElement : el;
  const bg = background(host);
  if (!fg || !bg) continue;
  fg = { ...fg, a: fg.a * opacity(el) };
  const shown = over(fg, bg);
  const l1 = luminance(shown);
  const l2 = luminance(bg);
  const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
  const size = parseFloat(s.fontSize);
  const bold = Number(s.fontWeight) >= 700;
  const large = size >= 24 || (bold && size >= 18.66);
  const need = large ? 3 : 4.5;
  checked++;
  if (ratio + 1e-9 < need) {
    problems.push(`contrast ${ratio.toFixed(2)}:1 < ${need}:1 (${s.fontSize}${bold ? ' bold' : ''}): ${describe(el)}`);
  }
}
if (checked < minText) problems.push(`only ${checked} text elements checked, expected at least ${minText}: the page is not on screen`);

if (dark) document.documentElement.removeAttribute('style');
return problems;
