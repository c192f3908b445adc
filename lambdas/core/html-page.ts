/**
 * The HTML pages Airlock serves itself (the OAuth consent page, the approvals page): one escaping rule,
 * one set of security headers and one document shell, so a page cannot drift to a weaker policy.
 * Pages carry no script and no third-party asset: the only style is the page's own, allowed by its hash.
 */
import { createHash } from 'node:crypto';

/** Escapes text for HTML element content and double- or single-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A page's style sheet and the CSP hash that allows exactly it. */
export interface PageStyle {
  readonly css: string;
  readonly hash: string;
}

export function pageStyle(css: string): PageStyle {
  const trimmed = css.trim();
  return { css: trimmed, hash: createHash('sha256').update(trimmed, 'utf8').digest('base64') };
}

/**
 * Headers of every page: no caching, no framing, no sniffing, no referrer to other sites, and a CSP that
 * allows the page's own style and forms posted only to `formAction` (CSP sources, e.g. `'self'` and a
 * client's redirect origin; none: the page may post no form).
 */
export function pageHeaders(style: PageStyle, formAction: readonly string[]): Record<string, string> {
  return {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': [
      "default-src 'none'",
      `style-src 'sha256-${style.hash}'`,
      `form-action ${formAction.length > 0 ? formAction.join(' ') : "'none'"}`,
      "frame-ancestors 'none'",
      "base-uri 'none'",
    ].join('; '),
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    // same-origin, not no-referrer: with no-referrer browsers send "Origin: null" on a form's POST, and
    // the pages' answers check the Origin. Other sites still get no referrer.
    'referrer-policy': 'same-origin',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'cache-control': 'no-store',
    pragma: 'no-cache',
  };
}

/** The document around a page's content (`content` is HTML, its text already escaped). */
export function htmlDocument(title: string, style: PageStyle, content: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style>${style.css}</style>
</head>
<body>
${content}
</body>
</html>
`;
}
