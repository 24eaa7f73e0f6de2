/**
 * The thin client's one stylesheet, hand-written: no framework, no build
 * step. Readable from a 360 px phone to a desktop, light and dark
 * (prefers-color-scheme). Colours are chosen for a contrast of at least 4.5:1
 * on their background; nothing here is needed for a page to work.
 */
export const STYLE_CSS = `:root {
  color-scheme: light dark;
  --bg: #fbfbf8;
  --fg: #1d1f21;
  --muted: #4f5459;
  --card: #ffffff;
  --line: #d5d8dc;
  --accent: #0b5cad;
  --accent-fg: #ffffff;
  --error-bg: #fdecea;
  --error-fg: #8a1c12;
  --mine: #e8f1fb;
  --online: #1f7a35;
  --phone: #0b5cad;
  --away: #9a6100;
  --busy: #b3261e;
  --offline: #6b7075;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #16181a;
    --fg: #e8e8e3;
    --muted: #b4b8bc;
    --card: #202326;
    --line: #3a3f44;
    --accent: #7db7f0;
    --accent-fg: #0d1620;
    --error-bg: #3b1916;
    --error-fg: #ffb4a9;
    --mine: #1d2c3b;
    --online: #5cc777;
    --phone: #7db7f0;
    --away: #f0b34a;
    --busy: #ff8a80;
    --offline: #9aa0a6;
  }
}
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0 auto;
  max-width: 46rem;
  padding: 0 0.75rem 2rem;
  background: var(--bg);
  color: var(--fg);
  font: 1rem/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  overflow-wrap: anywhere;
}
body.wide { max-width: 72rem; }
header.top {
  display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem 1rem;
  justify-content: space-between; padding: 0.75rem 0; border-bottom: 1px solid var(--line);
}
header.top nav { display: flex; flex-wrap: wrap; gap: 0.25rem 1rem; align-items: center; }
h1 { font-size: 1.35rem; margin: 0; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 0.5rem; }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, audio:focus-visible {
  outline: 3px solid var(--accent); outline-offset: 2px;
}
ul.plain, ol.plain { list-style: none; margin: 0; padding: 0; }
ul.plain > li, ol.plain > li {
  background: var(--card); border: 1px solid var(--line); border-radius: 0.5rem;
  padding: 0.5rem 0.75rem; margin: 0 0 0.5rem;
}
form { margin: 0; }
form.inline { display: inline; }
label { display: inline-block; }
input, select, button { font: inherit; color: inherit; max-width: 100%; }
input, select {
  background: var(--card); border: 1px solid var(--muted); border-radius: 0.35rem; padding: 0.35rem 0.5rem;
}
button {
  background: var(--accent); color: var(--accent-fg); border: 0; border-radius: 0.35rem;
  padding: 0.4rem 0.8rem; cursor: pointer; min-height: 2.25rem;
}
button.quiet { background: transparent; color: var(--accent); border: 1px solid var(--accent); }
.muted, small { color: var(--muted); }
.error {
  background: var(--error-bg); color: var(--error-fg); border-radius: 0.35rem; padding: 0.5rem 0.75rem;
}
.error[hidden] { display: none; }
.row { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; }
.grow { flex: 1 1 12rem; min-width: 0; }
.grow input { width: 100%; }
.mark {
  display: inline-block; width: 0.7rem; height: 0.7rem; border-radius: 50%;
  background: var(--offline); margin-right: 0.35rem; vertical-align: baseline;
}
[data-state="online"] .mark { background: var(--online); }
[data-state="on-the-phone"] .mark { background: var(--phone); border-radius: 0.15rem; }
[data-state="away"] .mark { background: var(--away); }
[data-state="busy"] .mark { background: var(--busy); }
[data-state="offline"] .mark { background: transparent; border: 2px solid var(--offline); }
.contact .name { font-weight: 600; }
.contact form, .session form, .invitation form, .request form { margin-left: 0.25rem; }
.unread {
  display: inline-block; background: var(--accent); color: var(--accent-fg); border-radius: 1rem;
  padding: 0 0.5rem; font-size: 0.875rem; margin-left: 0.25rem;
}
#messages > li { display: grid; grid-template-columns: auto 1fr; gap: 0 0.5rem; }
#messages > li.mine { background: var(--mine); }
#messages time { color: var(--muted); font-size: 0.875rem; grid-row: span 2; padding-top: 0.1rem; }
#messages .voice { display: flex; flex-wrap: wrap; gap: 0.25rem 0.5rem; align-items: center; grid-column: 2; }
#messages audio { max-width: 100%; height: 2.25rem; }
#send { margin-top: 1rem; }
#send input[name=text] { width: 100%; }
footer { margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.35rem 0.5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
.scroll { overflow-x: auto; }
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(9rem, 1fr)); gap: 0.5rem; }
.figures div { background: var(--card); border: 1px solid var(--line); border-radius: 0.5rem; padding: 0.5rem 0.75rem; }
.figures dt { color: var(--muted); font-size: 0.875rem; }
.figures dd { margin: 0; font-size: 1.35rem; font-weight: 600; }
ol.ladder { list-style: none; display: flex; flex-wrap: wrap; gap: 0.25rem; padding: 0; margin: 0.5rem 0 0; }
ol.ladder li {
  border: 1px solid var(--line); border-left: 0.35rem solid var(--offline); border-radius: 0.35rem;
  padding: 0.25rem 0.5rem; font-size: 0.875rem; background: var(--bg);
}
ol.ladder li[data-state="in-progress"] { border-left-color: var(--phone); }
ol.ladder li[data-state="delivered"] { border-left-color: var(--online); }
ol.ladder li[data-state="failed"] { border-left-color: var(--busy); }
ol.ladder li[data-state="cancelled"], ol.ladder li[data-state="skipped"] { border-left-color: var(--away); }
`;
