/**
 * The local pilot's sample general ledger: a few posted entries per quarter, for the `database`
 * connector's embedded PostgreSQL. `submitted_by` holds e-mail addresses, so column classification
 * (pii) can be seen withholding them.
 */

/** The seed script (tables and rows) a local database connector starts from. */
export const SAMPLE_LEDGER_SQL = `-- Sample general ledger of the Airlock local pilot. Edit freely: it is read when the pilot starts a
-- connector's database, and queried read-only.
CREATE TABLE gl_codes (
  code text PRIMARY KEY,
  name text NOT NULL
);
CREATE TABLE ledger_entries (
  id serial PRIMARY KEY,
  quarter text NOT NULL,
  posted_on date NOT NULL,
  gl_code text NOT NULL REFERENCES gl_codes (code),
  vendor text NOT NULL,
  amount numeric(12, 2) NOT NULL,
  currency text NOT NULL,
  submitted_by text NOT NULL
);
INSERT INTO gl_codes (code, name) VALUES
  ('6100', 'Travel - transport'),
  ('6110', 'Travel - accommodation'),
  ('6120', 'Travel - meals'),
  ('6400', 'Software subscriptions');
INSERT INTO ledger_entries (quarter, posted_on, gl_code, vendor, amount, currency, submitted_by) VALUES
  ('2026-Q2', '2026-06-18', '6100', 'City Cabs Ltd', 52.00, 'EUR', 'alice@example.com'),
  ('2026-Q2', '2026-06-19', '6120', 'Cafe Central', 23.40, 'EUR', 'alice@example.com'),
  ('2026-Q3', '2026-08-05', '6110', 'Harbour View Hotel', 365.00, 'GBP', 'alice@example.com'),
  ('2026-Q3', '2026-08-06', '6100', 'Northern Rail', 87.50, 'GBP', 'alice@example.com'),
  ('2026-Q3', '2026-09-02', '6400', 'Diagram Tools Inc', 240.00, 'USD', 'bob@example.com'),
  ('2026-Q3', '2026-09-14', '6120', 'Trattoria Roma', 61.80, 'EUR', 'bob@example.com');
`;
