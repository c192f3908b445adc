/**
 * Data-loss prevention on the way out: what a write or an export sends (an e-mail's body, an
 * attachment, a memo) is scanned for personal data with the same detectors and the same decoding that
 * redact results on the way in (`scanConnectorResult`: e-mail addresses, phone numbers, IBANs, card
 * and national id numbers, inside base64, data: URLs, PDFs and e-mails too). The kinds found go into
 * the Cedar context as `requestPersonalData`, and the policies decide (`personal-data-in-request` in
 * policies/data-protection.cedar). Nothing is changed here: a write is sent as approved or not at all.
 */
import { scanConnectorResult } from './result-scanner';

/** The kind named for content that could not be scanned (encoded, unreadable): undecidable is refused. */
export const UNSCANNABLE_CONTENT = 'encoded-content';

/**
 * The kinds of personal data in `params`, sorted, leaving out the parameters named in `exempt` (those
 * the config declares as meant to carry it); `encoded-content` when something could not be read.
 * @throws RangeError when a value is nested deeper than the scanner walks (the caller refuses it).
 */
export async function personalDataInRequest(
  params: Readonly<Record<string, unknown>>,
  options: { readonly exempt?: ReadonlySet<string>; readonly phoneRegions?: readonly string[] } = {},
): Promise<string[]> {
  const scanned: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(params)) {
    if (!options.exempt?.has(name)) scanned[name] = value;
  }
  const result = await scanConnectorResult(scanned, {
    ...(options.phoneRegions ? { phoneRegions: options.phoneRegions } : {}),
  });
  const kinds = new Set<string>(Object.keys(result.kinds));
  if (result.withheld > 0) kinds.add(UNSCANNABLE_CONTENT);
  return [...kinds].sort();
}
