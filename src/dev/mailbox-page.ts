/** The demo mailbox's pages: plain HTML (no script), everything sent by a peer escaped. */
import type { CapturedMail, CapturedPage } from './mailbox.js';

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

/** Links in a mail's text (the reply link) become clickable; the text was escaped first. */
const linkify = (escaped: string) => escaped.replace(/\bhttps?:\/\/[^\s<>"']+/g, (u) => `<a href="${u}">${u}</a>`);

const time = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);

const size = (n: number) =>
  n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${Math.round(n / 1024)} KiB` : `${(n / 1048576).toFixed(1)} MiB`;

const STYLE = `
body { font: 16px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #1d1d1f; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
p.note { color: #555; margin-top: 0; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #ddd; vertical-align: top; }
th { background: #f3f3f5; font-weight: 600; }
td.when { white-space: nowrap; color: #555; font-variant-numeric: tabular-nums; }
pre { white-space: pre-wrap; background: #f7f7f9; border: 1px solid #ddd; padding: 1rem; font: 15px/1.45 ui-monospace, monospace; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; } dt { font-weight: 600; } dd { margin: 0; }
a { color: #0a58ca; }
`;

function layout(title: string, body: string, refresh = false): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
${refresh ? '<meta http-equiv="refresh" content="10">' : ''}<title>${esc(title)}</title><style>${STYLE}</style></head>
<body>${body}</body></html>
`;
}

export function mailboxPage(mails: CapturedMail[], pages: CapturedPage[]): string {
  const mailRows = mails
    .map(
      (m) =>
        `<tr><td class="when">${time(m.at)}</td><td>${esc(m.from)}</td><td>${esc(m.to.join(', '))}</td>` +
        `<td><a href="/mail/${m.id}">${esc(m.subject || '(no subject)')}</a></td>` +
        `<td>${m.attachments.length || ''}</td></tr>`,
    )
    .join('\n');
  const pageRows = pages
    .map((p) => `<tr><td class="when">${time(p.at)}</td><td>${esc(p.pagerId)}</td><td>${esc(p.text)}</td></tr>`)
    .join('\n');
  return layout(
    'Demo mailbox',
    `<h1>Demo mailbox</h1>
<p class="note">What the notifier sent while the demo runs: mail (SMTP) and pages (SNPP) are caught here and go nowhere else. This page reloads itself every 10 seconds.</p>
<h2>Mail (${mails.length})</h2>
${
  mails.length
    ? `<table><thead><tr><th>Received</th><th>From</th><th>To</th><th>Subject</th><th>Attachments</th></tr></thead><tbody>\n${mailRows}\n</tbody></table>`
    : '<p>No mail yet.</p>'
}
<h2>Pager messages (${pages.length})</h2>
${
  pages.length
    ? `<table><thead><tr><th>Received</th><th>Pager</th><th>Message</th></tr></thead><tbody>\n${pageRows}\n</tbody></table>`
    : '<p>No pages yet.</p>'
}`,
    true,
  );
}

export function mailPage(m: CapturedMail): string {
  const attachments = m.attachments
    .map(
      (a, i) =>
        `<li><a href="/mail/${m.id}/attachments/${i}" download="${esc(a.filename)}">${esc(a.filename)}</a> (${esc(a.contentType)}, ${size(a.content.length)})</li>`,
    )
    .join('\n');
  return layout(
    m.subject || '(no subject)',
    `<p><a href="/">&larr; All mail and pages</a></p>
<h1>${esc(m.subject || '(no subject)')}</h1>
<dl><dt>From</dt><dd>${esc(m.from)}</dd><dt>To</dt><dd>${esc(m.to.join(', '))}</dd><dt>Date</dt><dd>${esc(m.date ?? time(m.at))}</dd></dl>
<pre>${linkify(esc(m.text))}</pre>
${m.attachments.length ? `<h2>Attachments</h2><ul>\n${attachments}\n</ul>` : ''}`,
  );
}

export function notFoundPage(why: string): string {
  return layout('Not found', `<p><a href="/">&larr; All mail and pages</a></p><h1>Not found</h1><p>${esc(why)}</p>`);
}
