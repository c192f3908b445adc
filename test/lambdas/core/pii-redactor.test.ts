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
    ])('%s', (_label, input) => {
      // Act
      const result = redactPii(input);

      // Assess
      expect(result.value).toBe(input);
      expect(result.redactions).toBe(0);
      expect(result.kinds).toEqual({});
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
