/**
 * One check of `airlock doctor`: named, with what was observed and, when it did not pass, what to do.
 * A check that could not run (it needs another to pass first, or a flag) is skipped, never passed.
 */

/** The outcome of one check. */
export interface DoctorCheck {
  /** Stable name, e.g. `tls-refuses-anonymous` or `connector-read:receipts`. */
  readonly name: string;
  readonly status: 'pass' | 'fail' | 'skip';
  /** What was observed. */
  readonly detail: string;
  /** What to do about a failure, or what a skipped check needs. */
  readonly fix?: string;
}

export function passed(name: string, detail: string): DoctorCheck {
  return { name, status: 'pass', detail };
}

export function failed(name: string, detail: string, fix: string): DoctorCheck {
  return { name, status: 'fail', detail, fix };
}

export function skipped(name: string, detail: string, fix?: string): DoctorCheck {
  return fix === undefined ? { name, status: 'skip', detail } : { name, status: 'skip', detail, fix };
}

/** The checks of one run, in order; each is reported as it is added (progress on a terminal). */
export class DoctorReport {
  readonly checks: DoctorCheck[] = [];

  constructor(private readonly onCheck: (check: DoctorCheck) => void = () => undefined) {}

  add(check: DoctorCheck): DoctorCheck {
    this.checks.push(check);
    this.onCheck(check);
    return check;
  }

  /** True when the named check ran and passed. */
  passed(name: string): boolean {
    return this.checks.some((c) => c.name === name && c.status === 'pass');
  }

  /** Adds `names` as skipped because `needs` did not pass. */
  skipAll(names: readonly string[], needs: string, fix?: string): void {
    for (const name of names) this.add(skipped(name, `needs ${needs} to pass first`, fix));
  }
}
