/**
 * Sample expense receipts for the local pilot's receipts folder: plain-text receipts for the
 * quarterly expense summary. One of them carries a guest's e-mail address and phone number, so the
 * personal-data redaction can be seen (and tested) on realistic input.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** The key of the receipt that holds personal data (an e-mail address and a phone number). */
export const SAMPLE_RECEIPT_WITH_PERSONAL_DATA = '2026-q3/2026-08-05-hotel-harbour-view.txt';

/** Receipt key (relative to the receipts folder) to content. */
export const SAMPLE_RECEIPTS: Readonly<Record<string, string>> = {
  '2026-q2/2026-06-18-taxi-airport.txt': `CITY CABS LTD
Licence 4471 - Driver 0923
Receipt no. CC-2026-061884

Date:        18 June 2026, 06:42
From:        Central Station
To:          Airport Terminal 2
Distance:    23.4 km

Fare                      EUR   44.20
Airport surcharge         EUR    4.00
Tip                       EUR    3.80
-------------------------------------
TOTAL                     EUR   52.00
  of which VAT 10%        EUR    4.73

Paid by card ****4417
Thank you for riding with City Cabs.
`,
  '2026-q3/2026-07-14-taxi-client-visit.txt': `CITY CABS LTD
Licence 4471 - Driver 1187
Receipt no. CC-2026-071402

Date:        14 July 2026, 17:15
From:        Office, Dock Street 12
To:          Client site, Meridian Park
Distance:    14.8 km

Fare                      EUR   34.70
Tip                       EUR    3.80
-------------------------------------
TOTAL                     EUR   38.50
  of which VAT 10%        EUR    3.50

Paid by card ****4417
`,
  [SAMPLE_RECEIPT_WITH_PERSONAL_DATA]: `HARBOUR VIEW HOTEL
Quayside 3, Portmouth
VAT reg. GB 204 6619 38

INVOICE HV-88213                    Date: 5 August 2026

Guest:       Alice Martin
E-mail:      alice.martin@example.com
Phone:       +44 20 7946 0958
Room:        412 (Standard double, single use)
Arrival:     3 August 2026
Departure:   5 August 2026

2 nights x GBP 165.00              GBP  330.00
Breakfast 2 x GBP 14.50            GBP   29.00
City tax 2 x GBP 3.00              GBP    6.00
-------------------------------------------
TOTAL                              GBP  365.00
  of which VAT 20%                 GBP   59.83

Paid by card ****4417 on 5 August 2026
`,
  '2026-q3/2026-08-21-team-lunch-trattoria.txt': `TRATTORIA DA LUCA
Via Marina 8
Table 14 - 6 covers

Date: 21 August 2026, 12:58

6 x Menu del giorno          EUR  114.00
2 x Acqua minerale 1l        EUR    7.00
3 x Caffe                    EUR    6.30
1 x Tiramisu da condividere  EUR    9.50
Service                      EUR   13.70
-------------------------------------
TOTAL                        EUR  150.50
  of which VAT 10%           EUR   13.68

Purpose (written on receipt): finance team quarter-end lunch
Paid by card ****4417
`,
  '2026-q3/2026-09-10-conference-ticket-cloudsummit.txt': `CLOUDSUMMIT EUROPE 2026
Order confirmation CSE-26-004512
Order date: 10 September 2026

Item                                   Qty   Amount
Full conference pass (3 days)            1   EUR 1,190.00
Workshop: FinOps for AI workloads        1   EUR   240.00
-----------------------------------------------------
Subtotal                                     EUR 1,430.00
VAT 0% (reverse charge)                      EUR     0.00
TOTAL                                        EUR 1,430.00

Event dates: 12-14 October 2026
Paid by corporate card ****9021
`,
};

/**
 * Writes the sample receipts into `folder`, each only when missing, so a pilot's own edits survive.
 * @returns the keys written now (empty when all were already there)
 */
export async function seedSampleReceipts(folder: string): Promise<readonly string[]> {
  const written: string[] = [];
  for (const [key, content] of Object.entries(SAMPLE_RECEIPTS)) {
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
