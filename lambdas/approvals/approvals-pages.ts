/**
 * The approvals page's HTML: the list of what waits for the approver, one approval in words with its
 * exact call, the decision form, and pages for refusals. Server-rendered, no script, no third-party
 * asset, framed by nobody, under a CSP that allows only its own inline style and forms posted to itself.
 * Accessible: landmarks, labelled fields, a visible focus ring, system colours (contrast follows the
 * user's light or dark setting).
 */
import type { APIGatewayProxyResult } from 'aws-lambda';
import type { ApprovalRecord } from '../core/approval-desk';
import {
  DOCUMENTS_HEADING,
  documentsUnavailableLine,
  nothingReadLine,
  notShownLine,
  readsScope,
} from '../core/approval-notice';
import type { ApprovalPreviewText } from '../core/approval-preview';
import { escapeHtml, htmlDocument, pageHeaders, pageStyle } from '../core/html-page';

const CSS = `
:root{color-scheme:light dark;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;line-height:1.5}
body{margin:0;background:Canvas;color:CanvasText}
header{display:flex;justify-content:space-between;align-items:center;padding:.75rem 1.5rem;border-bottom:1px solid GrayText}
main{max-width:48rem;margin:0 auto;padding:1.5rem}
h1{font-size:1.5rem;margin:0 0 1rem}
h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0}
dt{font-weight:600}
dd{margin:0;overflow-wrap:anywhere}
pre{white-space:pre-wrap;overflow-wrap:anywhere;border:1px solid GrayText;padding:.75rem;border-radius:.4rem}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid GrayText}
code.hash{word-break:break-all}
a{color:LinkText}
a:focus-visible,button:focus-visible,textarea:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}
label{display:block;font-weight:600;margin:1rem 0 .25rem}
textarea{font:inherit;width:100%;box-sizing:border-box;min-height:4rem;background:Field;color:FieldText}
.actions{display:flex;gap:1rem;margin-top:1rem}
button{font:inherit;padding:.6rem 1.4rem;border-radius:.4rem;border:2px solid currentColor;cursor:pointer;background:Canvas;color:CanvasText}
button.approve{background:#1d4ed8;color:#fff;border-color:#1d4ed8}
button.reject{background:#b91c1c;color:#fff;border-color:#b91c1c}
button.link{border:none;padding:0;text-decoration:underline;color:LinkText}
.notice{border:2px solid #b45309;padding:.75rem;border-radius:.5rem}
`.trim();

const STYLE = pageStyle(CSS);

/** Who is signed in, and the sign-out form (its own CSRF token). */
export interface PageUser {
  readonly principal: string;
  readonly signOutAction: string;
  readonly signOutCsrf: string;
}

function page(title: string, body: string, user?: PageUser): string {
  const header = user
    ? `<header><span>Airlock approvals</span><form method="post" action="${escapeHtml(user.signOutAction)}">
<span>Signed in as <strong class="principal">${escapeHtml(user.principal)}</strong></span>
<input type="hidden" name="csrf_token" value="${escapeHtml(user.signOutCsrf)}">
<button type="submit" class="link">Sign out</button></form></header>`
    : '<header><span>Airlock approvals</span></header>';
  return htmlDocument(title, STYLE, `${header}\n<main>\n${body}\n</main>`);
}

function htmlResponse(status: number, title: string, body: string, user?: PageUser): APIGatewayProxyResult {
  return { statusCode: status, headers: pageHeaders(STYLE, ["'self'"]), body: page(title, body, user) };
}

/** The approvals waiting for the approver, and their own requests. */
export function listPage(
  user: PageUser,
  approvals: readonly { record: ApprovalRecord; href: string; summary: string }[],
): APIGatewayProxyResult {
  const rows = approvals
    .map(
      ({ record, href, summary }) =>
        `<tr><td><a href="${escapeHtml(href)}">${escapeHtml(summary)}</a></td><td>${escapeHtml(record.principal)}</td><td>${escapeHtml(record.workflow)}</td><td><time datetime="${escapeHtml(record.expiresAt)}">${escapeHtml(record.expiresAt)}</time></td></tr>`,
    )
    .join('\n');
  const body =
    approvals.length === 0
      ? '<h1>Nothing waits for you</h1><p>No pending approval for you to decide or of yours.</p>'
      : `<h1>Waiting for a decision</h1>
<table>
<caption>Pending approvals, newest first</caption>
<thead><tr><th scope="col">What</th><th scope="col">Asked by</th><th scope="col">Workflow</th><th scope="col">Expires (UTC)</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>`;
  return htmlResponse(200, 'Airlock approvals', body, user);
}

/** One approval in words, with the exact call and (when the approver may decide) the form. */
export function approvalPage(
  user: PageUser,
  record: ApprovalRecord,
  preview: ApprovalPreviewText,
  form?: { readonly action: string; readonly csrfToken: string },
  notice?: string,
): APIGatewayProxyResult {
  const facts = preview.facts
    .map(([term, value]) => `<dt>${escapeHtml(term)}</dt><dd>${escapeHtml(value)}</dd>`)
    .join('\n');
  const decided =
    record.status === 'pending'
      ? ''
      : `<p class="notice" role="status">${escapeHtml(
          `This approval is ${record.status}${record.decidedBy ? ` by ${record.decidedBy}` : ''}${
            record.decisionReason ? `: "${record.decisionReason}"` : ''
          }.`,
        )}</p>`;
  const formHtml = form
    ? `<h2 id="decide">Your decision</h2>
<form method="post" action="${escapeHtml(form.action)}" aria-labelledby="decide">
<input type="hidden" name="csrf_token" value="${escapeHtml(form.csrfToken)}">
<input type="hidden" name="sha256" value="${escapeHtml(record.preview.sha256)}">
<label for="reason">Reason (recorded in the audit trail and sent to ${escapeHtml(record.principal)})</label>
<textarea id="reason" name="reason" required maxlength="1000"></textarea>
<div class="actions">
<button type="submit" class="approve" name="decision" value="approve">Approve</button>
<button type="submit" class="reject" name="decision" value="reject">Reject</button>
</div>
</form>`
    : '';
  const body = `${notice ? `<p class="notice" role="alert">${escapeHtml(notice)}</p>` : ''}
<h1>${escapeHtml(preview.headline)}</h1>
${decided}
<dl>
${facts}
</dl>
${documentsSection(record)}
<h2>The exact call that will run</h2>
<pre><code>${escapeHtml(preview.call)}</code></pre>
<p>sha256 of this call: <code>${escapeHtml(record.preview.sha256)}</code></p>
${formHtml}
<p><a href="${escapeHtml(preview.backHref)}">Back to the list</a></p>`;
  return htmlResponse(200, `Airlock approval: ${preview.headline}`, body, user);
}

/**
 * The documents the principal read before it asked (every token, since the record's window began):
 * names and sha256 (compare with `airlock audit`), never their content, which stays where it was read.
 */
function documentsSection(record: ApprovalRecord): string {
  const heading = `<h2 id="documents">${escapeHtml(DOCUMENTS_HEADING)}</h2>`;
  if (record.documentsUnavailable) {
    return `${heading}\n<p><strong>${escapeHtml(documentsUnavailableLine(record))}.</strong></p>`;
  }
  const documents = record.documents ?? [];
  const notShown = record.documentsNotShown
    ? `\n<p><strong>${escapeHtml(notShownLine(record, record.documentsNotShown))}.</strong></p>`
    : '';
  if (documents.length === 0 && !notShown) {
    return `${heading}\n<p>${escapeHtml(nothingReadLine(record))}.</p>`;
  }
  const rows = documents
    .map(
      (d) =>
        `<tr><td><code>${escapeHtml(d.id)}</code></td><td>${escapeHtml(`${d.connector}/${d.operation}`)}</td><td><code class="hash">${escapeHtml(d.sha256)}</code></td><td>${escapeHtml(d.readAt)}</td></tr>`,
    )
    .join('\n');
  return `${heading}
<p>The documents ${escapeHtml(readsScope(record))}, as the audit trail names them (sha256 of what was returned; the content is not kept).</p>
<table aria-labelledby="documents">
<thead><tr><th scope="col">Document</th><th scope="col">Read with</th><th scope="col">sha256</th><th scope="col">Read at (UTC)</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>${notShown}`;
}

/** A refusal or a problem, for a person: what happened and what to do. */
export function problemPage(
  status: number,
  heading: string,
  message: string,
  requestId: string,
  user?: PageUser,
  next?: { readonly href: string; readonly label: string },
): APIGatewayProxyResult {
  const body = `<h1>${escapeHtml(heading)}</h1>
<p role="alert">${escapeHtml(message)}</p>
${next ? `<p><a href="${escapeHtml(next.href)}">${escapeHtml(next.label)}</a></p>` : ''}
<p>If this keeps happening, give IT/security this reference: <code>${escapeHtml(requestId)}</code>.</p>`;
  return htmlResponse(status, `Airlock approvals: ${heading}`, body, user);
}
