/**
 * Sample documents of the local pilot's two further workflows: support logs for the customer
 * follow-up (the trace of a ticket, with customers' e-mail addresses and phone numbers in it, so the
 * excerpt an agent attaches is the redacted one), written into their folder like the sample receipts
 * (only what is missing); and the new-hire handbook of the onboarding checklist, a knowledge base of
 * tagged pages (seeded by seedSampleKnowledgeBase).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** The log of ticket T-5310 (customer C-1042): what a follow-up e-mail attaches an excerpt of. */
export const SAMPLE_EXPORT_LOG = '2026-11/export-service-2026-11-03.log';

/** Support log key (relative to the folder) to content. */
export const SAMPLE_SUPPORT_LOGS: Readonly<Record<string, string>> = {
  [SAMPLE_EXPORT_LOG]: `2026-11-03T09:14:02Z INFO  export-service request=ex-88121 customer=C-1042 user=jane.doe@harbourfreight.example action=invoice-export rows=48211
2026-11-03T09:14:32Z WARN  export-service request=ex-88121 batch 1/1 still running after 30s
2026-11-03T09:15:02Z ERROR export-service request=ex-88121 upstream timeout after 60s (batch size 50000)
2026-11-03T09:15:02Z INFO  export-service request=ex-88121 callback +44 20 7946 0958 requested by the customer
2026-11-03T11:40:19Z INFO  export-service release 4.18.2 deployed: batch size 5000
2026-11-03T11:52:47Z INFO  export-service request=ex-88190 customer=C-1042 user=jane.doe@harbourfreight.example action=invoice-export rows=48211 batches=10 duration=21.4s status=ok
`,
  '2026-11/sso-gateway-2026-11-04.log': `2026-11-04T08:01:11Z INFO  sso-gateway customer=C-2077 login start user=tomas.ruiz@ruizlogistica.example
2026-11-04T08:01:12Z WARN  sso-gateway customer=C-2077 assertion audience mismatch, redirecting to login
2026-11-04T08:01:13Z WARN  sso-gateway customer=C-2077 redirect loop detected (5 hops)
`,
};

/** A phrase that appears only in the confidential new-hire page (People Ops is not cleared for it). */
export const SAMPLE_NEW_HIRE_CONFIDENTIAL_PHRASE = 'relocation allowance';

/**
 * The new-hire handbook, a knowledge base: file name to Markdown with a `classification:` front matter,
 * the pages an onboarding checklist is built from. One page is confidential, so a search by People Ops
 * (not cleared for it) can be seen, and tested, finding nothing of it.
 */
export const SAMPLE_NEW_HIRE_PAGES: Readonly<Record<string, string>> = {
  'first-week.md': `---
title: Your first week
classification: internal
---
- Day 1: collect your laptop and badge at reception (bring photo ID); IT sets up your accounts.
- Day 1: complete the security awareness course (45 minutes) before you are given access to customer data.
- Day 2: meet your manager for goals of the first 90 days.
- Day 3: benefits enrolment with People Ops (pension, health insurance).
- By Friday: read the code of conduct and the expense policy, and sign both in the HR portal.
`,
  'equipment.md': `---
title: Equipment
classification: internal
---
Standard kit: laptop, headset. Ask your manager for a second monitor. Equipment is ordered by People
Ops two weeks before the start date and handed over on day 1.
`,
  'finance-onboarding.md': `---
title: Finance onboarding
classification: internal
---
- ERP access (read-only for the first 30 days; journal entries after the controls training).
- Shadow the month-end close with a senior analyst.
- Expense summary workflow: see the Airlock pilot guide.
`,
  'support-onboarding.md': `---
title: Customer Support onboarding
classification: internal
---
- CRM access and the ticket queue after the data protection module.
- Two weeks of paired shifts with a support lead.
- Follow-up e-mails to customers are approved by a support lead before they are sent.
`,
  'welcome.md': `---
title: Welcome
classification: public
---
Welcome aboard! Your manager and a buddy from your team will meet you on your first day.
`,
  'relocation-terms.md': `---
title: Relocation and signing terms
classification: confidential
---
New hires moving from abroad receive a ${SAMPLE_NEW_HIRE_CONFIDENTIAL_PHRASE} of EUR 7,500 in their first
week and a signing bonus agreed in their contract; neither is shown in an onboarding checklist.
`,
};

/**
 * Writes `documents` into `folder`, each only when missing, so a pilot's own edits survive.
 * @returns the keys written now
 */
export async function seedSampleDocuments(
  folder: string,
  documents: Readonly<Record<string, string>>,
): Promise<readonly string[]> {
  const written: string[] = [];
  for (const [key, content] of Object.entries(documents)) {
    const file = join(folder, ...key.split('/'));
    await mkdir(dirname(file), { recursive: true });
    try {
      await writeFile(file, content, { flag: 'wx' });
      written.push(key);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  return written;
}
