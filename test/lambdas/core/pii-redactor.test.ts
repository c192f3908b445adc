import { redactPii } from '../../../lambdas/core/pii-redactor';

describe('Function: redactPii', () => {
  describe('redacts', () => {
    it.each([
      [
        'an e-mail address',
        'Receipt sent to alice@example.com today',
        'Receipt sent to [redacted:email] today',
        'email',
      ],
      [
        'an e-mail address with a plus tag and sub-domains',
        'cc: bob.smith+receipts@mail.example.co.uk',
        'cc: [redacted:email]',
        'email',
      ],
      ['an IBAN printed in groups', 'Pay to DE89 3704 0044 0532 0130 00.', 'Pay to [redacted:iban].', 'iban'],
      ['a compact IBAN', 'IBAN:GB82WEST12345698765432', 'IBAN:[redacted:iban]', 'iban'],
      [
        'an IBAN followed by a short capitalised word',
        'GB82 WEST 1234 5698 7654 32 PAID',
        '[redacted:iban] PAID',
        'iban',
      ],
      [
        'a card number in groups of four',
        'Visa 4111 1111 1111 1111 charged',
        'Visa [redacted:card] charged',
        'card',
      ],
      ['a card number with dashes', 'card 5500-0000-0000-0004', 'card [redacted:card]', 'card'],
      ['a compact card number', 'PAN 4012888888881881', 'PAN [redacted:card]', 'card'],
      ['an American Express number', 'Amex 3782 822463 10005', 'Amex [redacted:card]', 'card'],
      ['a US social security number', 'SSN 123-45-6789', 'SSN [redacted:national-id]', 'national-id'],
      [
        'a UK National Insurance number with spaces',
        'NI AB 12 34 56 C',
        'NI [redacted:national-id]',
        'national-id',
      ],
      [
        'a compact UK National Insurance number',
        'NINO: AB123456C',
        'NINO: [redacted:national-id]',
        'national-id',
      ],
      ['an international phone number', 'tel:+44 20 7946 0958.', 'tel:[redacted:phone].', 'phone'],
      [
        'an international number with an area code in brackets',
        '+1 (415) 555-2671',
        '[redacted:phone]',
        'phone',
      ],
      ['a dotted international number', 'tél. +33.1.23.45.67.89', 'tél. [redacted:phone]', 'phone'],
      ['a North American number', 'phone 415-555-2671', 'phone [redacted:phone]', 'phone'],
      [
        'a North American number with an area code in brackets',
        '(415) 555-2671',
        '[redacted:phone]',
        'phone',
      ],
      ['a UK national number', 'Tel:020 7946 0958', 'Tel:[redacted:phone]', 'phone'],
      ['a UK mobile number', 'mobile 07700 900123', 'mobile [redacted:phone]', 'phone'],
      ['a German national number', 'Tel. 030 12345678', 'Tel. [redacted:phone]', 'phone'],
      ['a French national number', 'Tél 01 23 45 67 89', 'Tél [redacted:phone]', 'phone'],
    ])('%s', (_label, input, expected, kind) => {
      // Act
      const result = redactPii(input);

      // Assess
      expect(result.value).toBe(expected);
      expect(result.redactions).toBe(1);
      expect(result.kinds).toEqual({ [kind]: 1 });
    });
  });

  describe('leaves alone', () => {
    it.each([
      ['an amount with thousands separators', 'Total 1,234.56 EUR'],
      ['an amount with a space and a decimal comma', 'Summe EUR 12 500,00'],
      ['a large amount', '$1,000,000.00'],
      ['a signed amount', 'adjustment +1 234 567.89'],
      ['an amount without separators', 'total 1234567.89'],
      ['an ISO date', 'Date: 2026-03-15'],
      ['a European date', '15.03.2026'],
      ['a US date', '03/15/2026'],
      ['a dashed day-month-year date', '01-02-2026'],
      ['a date range', 'Period 2026-01-01 2026-03-31'],
      ['a 4-digit GL code', 'GL code 6400 (Travel)'],
      ['an ISO timestamp in UTC', '2026-07-01T10:15:30.123Z'],
      ['an ISO timestamp with an offset', '2026-07-01T10:15:30+02:00'],
      ['a time of day', 'at 12:30'],
      ['a purchase order number', 'PO-2026-000123'],
      ['an invoice number', 'INV-000045678'],
      ['an order number in groups', 'Order #4471-2231-09'],
      ['an order number with leading zeros', 'order 0001234567'],
      ['a 16-digit reference that fails the card check', 'ref 4111 1111 1111 1112'],
      ['an IBAN-shaped code that fails the mod-97 check', 'GB00 WEST 1234 5698 7654 32'],
      ['a National Insurance-shaped code with a prefix never issued', 'QQ123456C'],
      ['a receipt key', 'receipts/2026-q3/0042.pdf'],
      ['quantities', 'qty 100 250 1000'],
      ['an IP address', '192.168.10.1'],
      ['a version', 'v1.2.3'],
      ['a text without digits', 'Lunch with the audit team'],
      ['a German amount', 'Summe: 12.500,00 €'],
      ['an amount with a space as thousands separator', 'Betrag 1 234,56 EUR'],
      ['a German date and time', 'Datum 05.08.2026 14:30'],
      ['a German customer number', 'Kundennr. 0012345'],
      ['an invoice number with a slash', 'Rechnung Nr. 2026/000123'],
      ['a VAT id', 'USt-IdNr. DE123456789'],
      ['a UK VAT registration', 'VAT reg. GB 204 6619 38'],
      ['an ISBN', 'ISBN 978-3-16-148410-0'],
      ['a parcel tracking number', 'Tracking 1Z999AA10123456784'],
      ['a receipt number built from a date', 'Beleg 2026-08-05-0001'],
      ['a day range', '12-14 October 2026'],
      ['a signed small amount', '+12.50 EUR'],
      ['an image key with a density suffix', 'assets/logo@2x.png'],
    ])('%s', (_label, input) => {
      // Act
      const result = redactPii(input);

      // Assess
      expect(result.value).toBe(input);
      expect(result.redactions).toBe(0);
      expect(result.kinds).toEqual({});
    });
  });

  /**
   * The spellings an attacker tried against the pilot (issue: 28 of 42 leaked), and more across
   * locales: each one must come back redacted as its kind. Inputs use escapes for characters a
   * reader cannot see (non-breaking, narrow and zero-width spaces).
   */
  describe('spelling matrix: redacts personal data however it is written', () => {
    it.each([
      // e-mail
      [
        'email',
        'a local part starting with an underscore',
        'contact _alice@example.com',
        'contact [redacted:email]',
      ],
      ['email', 'an IDN domain in Unicode', 'alice.martin@bücher.de', '[redacted:email]'],
      ['email', 'an IDN domain in punycode', 'alice@xn--bcher-kva.example', '[redacted:email]'],
      ['email', 'a Unicode local part', 'jörg.müller@example.de', '[redacted:email]'],
      ['email', 'a Chinese address', '联系 李雷@例子.中国', '联系 [redacted:email]'],
      ['email', 'upper case', 'ALICE.MARTIN@EXAMPLE.COM', '[redacted:email]'],
      ['email', 'a quoted local part', '"alice martin"@example.com', '[redacted:email]'],
      ['email', 'a full-width at sign', 'alice\uFF20example.com', '[redacted:email]'],
      ['email', 'an HTML entity for the at sign', 'alice&#64;example.com', '[redacted:email]'],
      ['email', 'a named HTML entity', 'alice&commat;example.com', '[redacted:email]'],
      ['email', '[at] and [dot]', 'alice [at] example [dot] com', '[redacted:email]'],
      ['email', '(at)', 'alice(at)example.com', '[redacted:email]'],
      ['email', 'a percent-encoded mailto link', 'mailto:alice%40example.com', 'mailto:[redacted:email]'],
      ['email', 'a zero-width space before the at sign', 'alice\u200B@example.com', '[redacted:email]'],
      [
        'email',
        'a hyphen, a plus tag and a two-level suffix',
        'a.o-brien+tag@sub.example.co.uk',
        '[redacted:email]',
      ],
      // phone
      ['phone', 'UK with the 00 international prefix', 'Tel 0044 20 7946 0958', 'Tel [redacted:phone]'],
      ['phone', 'Munich with a slash after the area code', 'Tel. 089/12345678', 'Tel. [redacted:phone]'],
      [
        'phone',
        'Munich without a label',
        'Rückruf unter 089/12345678 erbeten',
        'Rückruf unter [redacted:phone] erbeten',
      ],
      ['phone', 'German with the trunk prefix in brackets', '+49 (0)89 1234 5678', '[redacted:phone]'],
      ['phone', 'German mobile', 'Handy 0171 1234567', 'Handy [redacted:phone]'],
      ['phone', 'German spaced in pairs', 'Telefon: 0 89 12 34 56 78', 'Telefon: [redacted:phone]'],
      ['phone', 'non-breaking spaces', '+44\u00A020\u00A07946\u00A00958', '[redacted:phone]'],
      ['phone', 'narrow non-breaking spaces', '+44\u202F20\u202F7946\u202F0958', '[redacted:phone]'],
      ['phone', 'en dashes', '+44\u201320\u20137946\u20130958', '[redacted:phone]'],
      ['phone', 'French mobile in pairs', 'Portable 06 12 34 56 78', 'Portable [redacted:phone]'],
      ['phone', 'French international', '+33 6 12 34 56 78', '[redacted:phone]'],
      [
        'phone',
        'Spanish mobile without a trunk prefix, labelled',
        'Móvil: 612 345 678',
        'Móvil: [redacted:phone]',
      ],
      ['phone', 'Swiss national', 'Tel. 044 668 18 00', 'Tel. [redacted:phone]'],
      ['phone', 'Italian national', 'tel. 06 1234 5678', 'tel. [redacted:phone]'],
      ['phone', 'Dutch national', '020 123 4567', '[redacted:phone]'],
      ['phone', 'Russian with brackets', '+7 (495) 123-45-67', '[redacted:phone]'],
      ['phone', 'Japanese national', '電話 03-1234-5678', '電話 [redacted:phone]'],
      ['phone', 'Australian international', '+61 2 9876 5432', '[redacted:phone]'],
      ['phone', 'Indian mobile', '+91 98765 43210', '[redacted:phone]'],
      ['phone', 'Brazilian mobile', '+55 11 91234-5678', '[redacted:phone]'],
      ['phone', 'US with dashes after +1', '+1-415-555-2671', '[redacted:phone]'],
      ['phone', 'Arabic-Indic digits', '+٤٤ ٢٠ ٧٩٤٦ ٠٩٥٨', '[redacted:phone]'],
      [
        'phone',
        'full-width digits',
        '\uFF0B\uFF14\uFF14 \uFF12\uFF10 \uFF17\uFF19\uFF14\uFF16 \uFF10\uFF19\uFF15\uFF18',
        '[redacted:phone]',
      ],
      // IBAN
      ['iban', 'lower case', 'de89 3704 0044 0532 0130 00', '[redacted:iban]'],
      ['iban', 'dashed', 'DE89-3704-0044-0532-0130-00', '[redacted:iban]'],
      [
        'iban',
        'non-breaking spaces',
        'DE89\u00A03704\u00A00044\u00A00532\u00A00130\u00A000',
        '[redacted:iban]',
      ],
      ['iban', 'a space after the country code', 'IBAN DE 89 3704 0044 0532 0130 00', 'IBAN [redacted:iban]'],
      ['iban', 'French', 'FR76 3000 6000 0112 3456 7890 189', '[redacted:iban]'],
      ['iban', 'Dutch with a bank code in letters', 'NL91 ABNA 0417 1643 00', '[redacted:iban]'],
      ['iban', 'Swiss', 'CH93 0076 2011 6238 5295 7', '[redacted:iban]'],
      ['iban', 'Spanish', 'IBAN: ES91 2100 0418 4502 0005 1332', 'IBAN: [redacted:iban]'],
      ['iban', 'Italian in lower case', 'it60 x054 2811 1010 0000 0123 456', '[redacted:iban]'],
      // card
      ['card', 'dotted', '4111.1111.1111.1111', '[redacted:card]'],
      ['card', 'non-breaking spaces', '4111\u00A01111\u00A01111\u00A01111', '[redacted:card]'],
      ['card', 'narrow non-breaking spaces', '4111\u202F1111\u202F1111\u202F1111', '[redacted:card]'],
      ['card', 'zero-width spaces', '4111\u200B1111\u200B1111\u200B1111', '[redacted:card]'],
      [
        'card',
        'full-width digits',
        '\uFF14\uFF11\uFF11\uFF11 \uFF11\uFF11\uFF11\uFF11 \uFF11\uFF11\uFF11\uFF11 \uFF11\uFF11\uFF11\uFF11',
        '[redacted:card]',
      ],
      ['card', 'Mastercard', '5500 0000 0000 0004', '[redacted:card]'],
      ['card', 'Discover', '6011 1111 1111 1117', '[redacted:card]'],
      [
        'card',
        'followed by an expiry date',
        'Visa 4111 1111 1111 1111 exp 12/28',
        'Visa [redacted:card] exp 12/28',
      ],
      [
        'card',
        'after a reference number in the same run',
        'ref 12 4111 1111 1111 1111',
        'ref 12 [redacted:card]',
      ],
    ])('%s: %s', (kind, _label, input, expected) => {
      // Act
      const result = redactPii(input);

      // Assess
      expect(result.value).toBe(expected);
      expect(result.kinds).toEqual({ [kind]: 1 });
    });

    it('redacts object keys, and two keys redacted alike stay apart', () => {
      // Prepare
      const byContact = {
        'alice@example.com': 12,
        'bob@example.com': 3,
        '+44 20 7946 0958': 'mobile',
        total: 15,
      };

      // Act
      const result = redactPii(byContact);

      // Assess
      expect(result.value).toEqual({
        '[redacted:email]': 12,
        '[redacted:email]#2': 3,
        '[redacted:phone]': 'mobile',
        total: 15,
      });
      expect(result.kinds).toEqual({ email: 2, phone: 1 });
    });

    it('redacts a card number stored as a JSON number', () => {
      // Act
      const result = redactPii({ pan: 4111111111111111, amount: 4111.11, count: 1234567890123 });

      // Assess
      expect(result.value).toEqual({ pan: '[redacted:card]', amount: 4111.11, count: 1234567890123 });
      expect(result.kinds).toEqual({ card: 1 });
    });
  });

  describe('walking JSON values', () => {
    it('redacts every string in nested objects and arrays and counts each kind', () => {
      // Prepare
      const receipt = {
        key: 'receipts/2026-q3/0042.txt',
        amount: 1234.56,
        paid: true,
        note: null,
        content: 'Hotel Adler, guest alice@example.com, tel +49 30 1234567, card 4111 1111 1111 1111',
        lines: [{ text: 'Contact bob@example.com' }, 'GL 6400', 42],
      };

      // Act
      const result = redactPii(receipt);

      // Assess
      expect(result.value).toEqual({
        key: 'receipts/2026-q3/0042.txt',
        amount: 1234.56,
        paid: true,
        note: null,
        content: 'Hotel Adler, guest [redacted:email], tel [redacted:phone], card [redacted:card]',
        lines: [{ text: 'Contact [redacted:email]' }, 'GL 6400', 42],
      });
      expect(result.redactions).toBe(4);
      expect(result.kinds).toEqual({ email: 2, phone: 1, card: 1 });
    });

    it('returns a copy and leaves the input unchanged', () => {
      // Prepare
      const input = { content: 'mail alice@example.com' };

      // Act
      const result = redactPii(input);

      // Assess
      expect(input.content).toBe('mail alice@example.com');
      expect(result.value).not.toBe(input);
    });

    it('redacts several values of the same kind in one string', () => {
      // Act
      const result = redactPii('a@example.com, b@example.com and c@example.org');

      // Assess
      expect(result.value).toBe('[redacted:email], [redacted:email] and [redacted:email]');
      expect(result.kinds).toEqual({ email: 3 });
    });

    it('refuses a value nested too deeply to walk', () => {
      // Prepare
      let deep: unknown = 'alice@example.com';
      for (let i = 0; i < 100; i++) deep = [deep];

      // Act & Assess
      expect(() => redactPii(deep)).toThrow(/nested deeper than 64 levels/);
    });
  });
});
