/**
 * The text of a configured query: checked once when the config is loaded, and turned into the
 * statement each adapter sends. Parameters are `:name` placeholders, which the RDS Data API binds by
 * name and PGlite by position (`$1`); either way the database binds them as values, so nothing an
 * agent sends is ever read as SQL.
 */

type Segment =
  | { readonly text: string }
  | { readonly placeholder: string }
  | { readonly unterminated: string };

/** Splits query text into SQL and `:name` placeholders; string literals and `::` casts are kept as SQL. */
function segmentsOf(sql: string): Segment[] {
  const segments: Segment[] = [];
  let text = '';
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === "'" || c === '"') {
      // A literal or quoted identifier; a doubled quote is an escaped one.
      let j = i + 1;
      while (j < sql.length) {
        if (sql[j] === c) {
          if (sql[j + 1] === c) j += 2;
          else break;
        } else j += 1;
      }
      if (j >= sql.length) {
        if (text) segments.push({ text });
        segments.push({ unterminated: c });
        return segments;
      }
      text += sql.slice(i, j + 1);
      i = j + 1;
    } else if (c === ':' && sql[i + 1] === ':') {
      text += '::';
      i += 2;
    } else if (c === ':' && /[A-Za-z]/.test(sql[i + 1] ?? '')) {
      const name = /^[A-Za-z][A-Za-z0-9]*/.exec(sql.slice(i + 1))![0];
      if (text) segments.push({ text });
      text = '';
      segments.push({ placeholder: name });
      i += 1 + name.length;
    } else {
      text += c;
      i += 1;
    }
  }
  if (text) segments.push({ text });
  return segments;
}

/** The SQL outside string literals and quoted identifiers. */
function unquotedSql(sql: string): string {
  return segmentsOf(sql)
    .map((s) => ('text' in s ? s.text.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"/g, "''") : ' 0 '))
    .join('');
}

function isTerminated(sql: string): boolean {
  return !segmentsOf(sql).some((s) => 'unterminated' in s);
}

/**
 * Why a configured query cannot be run as a read-only Airlock operation, or `undefined`. The read-only
 * user and the read-only transaction are what keep the database unchanged; this check makes a
 * mistaken config fail at synth rather than at the first call.
 */
export function checkQueryText(sql: string): string | undefined {
  if (!isTerminated(sql)) return 'the query has an unterminated quote';
  const bare = unquotedSql(sql);
  if (bare.includes(';')) return 'expected one statement without ";"';
  if (bare.includes('--') || bare.includes('/*')) return 'expected a query without comments';
  if (/\$[A-Za-z_0-9]*\$/.test(bare)) return 'expected a query without dollar-quoted strings';
  if (/\$\d/.test(bare)) return 'expected :name placeholders, not $1';
  if (!/^\s*(select|with)\b/i.test(bare)) return 'expected a SELECT (or WITH ... SELECT) query';
  return undefined;
}

/** The names of the `:name` placeholders, in order of appearance (repeats included). */
export function placeholdersOf(sql: string): string[] {
  return segmentsOf(sql).flatMap((s) => ('placeholder' in s ? [s.placeholder] : []));
}

/**
 * The query with at most `limit` rows: wrapped as a subquery, which PostgreSQL also refuses for a
 * data-modifying WITH clause.
 */
export function withRowLimit(sql: string, limit: number): string {
  if (!Number.isSafeInteger(limit) || limit < 1)
    throw new RangeError(`row limit ${limit} is not a positive integer`);
  return `SELECT * FROM (\n${sql}\n) AS airlock_rows LIMIT ${limit}`;
}

/** The query with positional placeholders (`$1`, a name repeated reuses its number) and the names in order. */
export function toPositional(sql: string): { readonly text: string; readonly names: readonly string[] } {
  const names: string[] = [];
  const text = segmentsOf(sql)
    .map((s) => {
      if ('text' in s) return s.text;
      if ('unterminated' in s) throw new RangeError('the query has an unterminated quote');
      let index = names.indexOf(s.placeholder);
      if (index < 0) index = names.push(s.placeholder) - 1;
      return `$${index + 1}`;
    })
    .join('');
  return { text, names };
}
