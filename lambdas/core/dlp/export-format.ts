/**
 * One spelling per export format, so an allowlist compares data, not spellings: `CSV`, ` csv `,
 * `.csv`, `text/csv; charset=utf-8` and `text/x-csv` are all `csv`. Unknown spellings stay what they
 * are (lower-cased), so they match no allowlist entry unless the operator wrote exactly that.
 */

const MEDIA_TYPES: Readonly<Record<string, string>> = {
  'text/csv': 'csv',
  'application/csv': 'csv',
  'text/comma-separated-values': 'csv',
  'text/tab-separated-values': 'tsv',
  'application/vnd.ms-excel': 'xls',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
  'application/vnd.ms-excel.sheet.macroenabled.12': 'xlsm',
  'application/vnd.oasis.opendocument.spreadsheet': 'ods',
  'application/vnd.apache.parquet': 'parquet',
  'application/pdf': 'pdf',
  'application/json': 'json',
  'application/x-ndjson': 'ndjson',
  'application/xml': 'xml',
  'text/xml': 'xml',
  'text/plain': 'txt',
  'text/html': 'html',
  'text/markdown': 'md',
  'application/zip': 'zip',
  'application/msword': 'doc',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'application/vnd.oasis.opendocument.text': 'odt',
};

const ALIASES: Readonly<Record<string, string>> = {
  htm: 'html',
  text: 'txt',
  yml: 'yaml',
  excel: 'xlsx',
  markdown: 'md',
};

/**
 * The canonical name of an export format, or undefined when nothing is named (empty or blank).
 * Case, surrounding and inner whitespace, Unicode compatibility forms (full-width letters), media
 * type parameters, `x-` media subtypes, a leading dot or `*.` and a file name's extension are folded.
 */
export function normalizeExportFormat(raw: string): string | undefined {
  let format = raw.normalize('NFKC').toLowerCase().replace(/\s+/g, '');
  format = format.split(';')[0]!;
  if (format === '') return undefined;
  const known = MEDIA_TYPES[format];
  if (known) return known;
  const slash = format.indexOf('/');
  if (slash >= 0) {
    const subtype = format.slice(slash + 1);
    if (subtype.endsWith('+json')) return 'json';
    if (subtype.endsWith('+xml')) return 'xml';
    const unprefixed = subtype.replace(/^x-/, '');
    return (
      MEDIA_TYPES[`${format.slice(0, slash)}/${unprefixed}`] ?? (unprefixed !== subtype ? unprefixed : format)
    );
  }
  const extension = format.slice(format.lastIndexOf('.') + 1);
  if (extension === '') return undefined;
  return ALIASES[extension] ?? extension;
}
