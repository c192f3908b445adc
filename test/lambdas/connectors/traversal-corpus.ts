/**
 * Keys that try to leave a file store's folder, for the key, connector and adapter tests.
 * Each must be refused before anything outside the folder is touched.
 */
export const TRAVERSAL_CORPUS: readonly string[] = [
  '../x',
  'a/../../x',
  '..',
  'a/..',
  '/etc/passwd',
  '%2e%2e/x',
  '%2E%2E/x',
  '.%2e/x',
  '..%2fx',
  '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
  '%252e%252e/x',
  '%25252e%25252e/x',
  '%2fetc%2fpasswd',
  '..\\x',
  'a\\..\\..\\x',
  '%5c..%5cx',
  'a\u0000b.txt',
  'a%00b.txt',
  '%c0%ae%c0%ae/x',
  'C:/Windows/win.ini',
  './x',
  'a//b',
];
