/**
 * The pages a person sees on the OAuth entry point: the consent page and the error page (for requests
 * that must not be redirected back to an untrusted client). Server-rendered HTML without scripts or
 * third-party assets, framed by nobody (CSP `frame-ancestors 'none'` and `X-Frame-Options: DENY`, so
 * no other site can overlay the Allow button), under a CSP that allows only its own inline style and a
 * form posted to Airlock (and, after it, the redirect to the client's origin).
 */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { escapeHtml, htmlDocument, pageHeaders, pageStyle } from '../core/html-page';
import type { ConsentPrompt } from '../core/oauth/authorization-server';

const CSS = `
:root{color-scheme:light dark;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;line-height:1.5}
body{margin:0;background:Canvas;color:CanvasText}
main{max-width:40rem;margin:0 auto;padding:1.5rem}
h1{font-size:1.5rem;margin:0 0 1rem}
h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0}
dt{font-weight:600}
dd{margin:0;overflow-wrap:anywhere}
code{font-size:.9em}
.warning{border:2px solid #b45309;padding:.75rem;border-radius:.5rem}
.actions{display:flex;gap:1rem;margin-top:1.5rem}
button{font:inherit;padding:.6rem 1.4rem;border-radius:.4rem;border:2px solid currentColor;cursor:pointer}
button.allow{background:#1d4ed8;color:#fff;border-color:#1d4ed8}
button.deny{background:Canvas;color:CanvasText}
button:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}
`.trim();

const STYLE = pageStyle(CSS);

function page(title: string, body: string): string {
  return htmlDocument(title, STYLE, `<main>\n${body}\n</main>`);
}

/** The consent page: 200, with the cookies the handler adds. */
export function consentPageResponse(prompt: ConsentPrompt): APIGatewayProxyResult {
  const name = prompt.client.name ?? 'An application';
  const identified =
    prompt.client.source === 'metadata_document'
      ? `its metadata document at ${escapeHtml(prompt.client.documentHost ?? '')}`
      : 'nothing: it registered itself, so its name is unverified';
  const scopes = prompt.scopes
    .map(
      (s) =>
        `<li><strong>${escapeHtml(s.summary)}</strong>${
          s.operations.length > 0
            ? `<ul>${s.operations.map((op) => `<li>${escapeHtml(op)}</li>`).join('')}</ul>`
            : ''
        }</li>`,
    )
    .join('\n');
  const title = `Allow ${name} to use Airlock as ${prompt.principal}?`;
  const body = `<h1>Allow <span class="client-name">${escapeHtml(name)}</span> to use Airlock as ${escapeHtml(prompt.principal)}?</h1>
${
  prompt.changed
    ? '<p class="warning" role="alert">This application has changed since you last allowed it (its name, address or redirect addresses). Check it again.</p>'
    : ''
}
<p>Allow it only if you have just connected it yourself, from your AI assistant.</p>
<h2 id="application">The application</h2>
<dl aria-labelledby="application">
<dt>Calls itself</dt><dd>${escapeHtml(name)}</dd>
<dt>Airlock checked</dt><dd>${identified}</dd>
${prompt.client.uri ? `<dt>Says its home page is</dt><dd>${escapeHtml(prompt.client.uri)}</dd>` : ''}
<dt>Client ID</dt><dd><code>${escapeHtml(prompt.client.id)}</code></dd>
<dt>Your answer goes to</dt><dd><strong class="redirect-origin">${escapeHtml(prompt.redirectOrigin)}</strong></dd>
</dl>
<h2 id="access">What it may do</h2>
<p>In the workflow <strong>${escapeHtml(prompt.workflow.name)}</strong> (${escapeHtml(prompt.workflow.description)}), as you:</p>
<ul aria-labelledby="access">
${scopes}
</ul>
<p>Every call is checked against policy, may wait for a manager's approval, and is recorded. You can revoke it by asking IT/security.</p>
<form method="post" action="${escapeHtml(prompt.formAction)}">
<input type="hidden" name="ticket" value="${escapeHtml(prompt.ticketId)}">
<input type="hidden" name="csrf_token" value="${escapeHtml(prompt.csrfToken)}">
<div class="actions">
<button type="submit" class="allow" name="decision" value="allow">Allow</button>
<button type="submit" class="deny" name="decision" value="deny">Deny</button>
</div>
</form>`;
  return {
    statusCode: 200,
    headers: pageHeaders(STYLE, ["'self'", prompt.redirectOrigin]),
    body: page(title, body),
  };
}

/** A refusal shown to the person (never redirected to a client that could not be trusted). */
export function errorPageResponse(
  status: number,
  description: string,
  requestId: string,
): APIGatewayProxyResult {
  const body = `<h1>Airlock cannot continue this sign-in</h1>
<p role="alert">${escapeHtml(description)}</p>
<p>Go back to your AI assistant and connect again. If this keeps happening, give IT/security this reference: <code>${escapeHtml(requestId)}</code>.</p>`;
  return {
    statusCode: status,
    headers: pageHeaders(STYLE, []),
    body: page('Airlock: sign-in stopped', body),
  };
}
