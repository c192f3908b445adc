/**
 * Writes a small, valid PDF (one page per entry of `pages`, Helvetica, WinAnsi text) with an
 * optional document-information dictionary and link annotations, so tests can hand real PDFs to
 * PDF.js without committing binaries. Offsets in the cross-reference table are computed, so any
 * conforming reader opens the result without repairing it.
 */
export interface TinyPdfOptions {
  /** Lines of text per page; an empty page has no text at all (like a scan). */
  readonly pages: ReadonlyArray<readonly string[]>;
  /** Document information, e.g. `{ Author: 'Alice' }`. */
  readonly info?: Readonly<Record<string, string>>;
  /** URI link annotations on the first page, e.g. `mailto:alice@example.com`. */
  readonly links?: readonly string[];
}

function pdfString(text: string): string {
  return `(${text.replace(/[\\()]/g, (c) => `\\${c}`)})`;
}

export function tinyPdf(options: TinyPdfOptions): Buffer {
  const objects: string[] = [];
  const add = (body: string): number => {
    objects.push(body);
    return objects.length;
  };
  const catalog = add('');
  const pagesId = add('');
  const font = add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>');
  const pageIds: number[] = [];
  options.pages.forEach((lines, index) => {
    const stream =
      lines.length === 0
        ? ''
        : `BT /F1 11 Tf 72 760 Td 14 TL ${lines.map((line) => `${pdfString(line)} Tj T*`).join(' ')} ET`;
    const contents = add(
      `<< /Length ${Buffer.byteLength(stream, 'latin1')} >>\nstream\n${stream}\nendstream`,
    );
    const annots =
      index === 0 && options.links?.length
        ? ` /Annots [${options.links
            .map((uri, i) => {
              const id = add(
                `<< /Type /Annot /Subtype /Link /Rect [72 ${600 - i * 20} 300 ${615 - i * 20}] /Border [0 0 0] /A << /S /URI /URI ${pdfString(uri)} >> >>`,
              );
              return `${id} 0 R`;
            })
            .join(' ')}]`
        : '';
    pageIds.push(
      add(
        `<< /Type /Page /Parent ${pagesId} 0 R /MediaBox [0 0 612 792] /Contents ${contents} 0 R /Resources << /Font << /F1 ${font} 0 R >> >>${annots} >>`,
      ),
    );
  });
  objects[catalog - 1] = `<< /Type /Catalog /Pages ${pagesId} 0 R >>`;
  objects[pagesId - 1] =
    `<< /Type /Pages /Kids [${pageIds.map((id) => `${id} 0 R`).join(' ')}] /Count ${pageIds.length} >>`;
  const info = options.info
    ? add(
        `<< ${Object.entries(options.info)
          .map(([key, value]) => `/${key} ${pdfString(value)}`)
          .join(' ')} >>`,
      )
    : undefined;

  let out = '%PDF-1.4\n%\xe2\xe3\xcf\xd3\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(out, 'latin1'));
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out, 'latin1');
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  out += offsets.map((offset) => `${String(offset).padStart(10, '0')} 00000 n \n`).join('');
  out += `trailer\n<< /Size ${objects.length + 1} /Root ${catalog} 0 R${info ? ` /Info ${info} 0 R` : ''} >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}
