/**
 * The local pilot's sample knowledge base: finance handbook pages in Markdown, each with a front
 * matter naming its classification. One page is confidential, so a search by someone not cleared for
 * it can be seen (and tested) finding nothing of it.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A phrase that appears only in the confidential page. */
export const SAMPLE_CONFIDENTIAL_PHRASE = 'negotiated corporate rate';

/** File name to content. */
export const SAMPLE_KNOWLEDGE_BASE: Readonly<Record<string, string>> = {
  'submitting-receipts.md': `---
title: Submitting receipts
classification: public
---
Submit every receipt within 30 days of the expense. A photo or a PDF of the receipt is enough; keep
the paper original until the quarter is closed. Receipts in a foreign currency are converted at the
rate of the day the expense was paid.
`,
  'travel-policy.md': `---
title: Travel and hotel policy
classification: internal
---
Book rail for journeys under four hours. The hotel cap per night is GBP 180 in London, EUR 160 in
other European capitals and USD 220 in New York. Meals are reimbursed up to EUR 60 per day on the
road. Travel is booked under GL code 6100 (transport) and 6110 (accommodation).
`,
  'executive-travel.md': `---
title: Executive travel terms
classification: confidential
---
Board members may book business class on flights over six hours. The ${SAMPLE_CONFIDENTIAL_PHRASE}
with the Harbour View Hotel is GBP 142 per night, including breakfast; do not share it with vendors.
`,
  'new-hire-expenses.md': `---
title: Expenses in your first week
classification: internal
---
New hires receive a corporate card in their first week. Until it arrives, pay with your own card and
submit the receipts as usual; finance reimburses within five working days.
`,
  'untagged-draft.md': `# Draft without a classification

A page with no front matter is never indexed, so it can never be found: nothing untagged leaks.
`,
};

/**
 * Writes sample pages (the finance handbook unless `pages` says otherwise) into `folder`, keeping any
 * file that is already there.
 */
export async function seedSampleKnowledgeBase(
  folder: string,
  pages: Readonly<Record<string, string>> = SAMPLE_KNOWLEDGE_BASE,
): Promise<void> {
  await mkdir(folder, { recursive: true });
  for (const [name, content] of Object.entries(pages)) {
    try {
      await writeFile(join(folder, name), content, { flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}
