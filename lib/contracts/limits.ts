/**
 * Size limits both sides of a boundary enforce. The request-body limit is the config's
 * `api.maxBodyBytes`: WAF refuses larger bodies in AWS, and every handler (REST, MCP, OAuth) and the
 * local pilot's server refuse them with the same 413, so a request behaves the same in both places.
 */

/** Default of `api.maxBodyBytes`: the largest request body any route accepts. */
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024;

/** The longest `intent` an agent may give for a call (recorded in the audit trail). */
export const MAX_INTENT_LENGTH = 1000;

/** Far above any token Airlock issues; stops an attacker making us parse megabytes. */
export const MAX_ACCESS_TOKEN_LENGTH = 8192;

/** The longest approval id a client may send back (REST header or MCP argument). */
export const MAX_APPROVAL_ID_LENGTH = 128;

/** How often pending approvals are checked for a reminder before they expire (AWS schedule, local timer). */
export const APPROVAL_REMINDER_MINUTES = 15;

/** How long an approver stays signed in to the approvals page before the IdP is asked again. */
export const APPROVER_SESSION_SECONDS = 60 * 60;

/** How long a sign-in at the IdP may take, from the approvals page's redirect to the IdP's answer. */
export const APPROVER_SIGN_IN_SECONDS = 10 * 60;
