// Hostile files built in the test: a DOCX and a PDF of a few hundred KB whose text expands
// to hundreds of MB when parsed. They are deflated from repeated chunks as a stream, so
// building them never holds the expanded bytes.
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import zlib from 'node:zlib';

const MIB = 1024 * 1024;

interface Deflated {
  compressed: Buffer;
  crc: number;
  size: number;
}

/** `head`, then `unit` repeated to about `expandedMb` MiB, then `tail`, deflated (raw for zip, zlib-wrapped for PDF). */
async function deflateRepeated(head: string, unit: string, expandedMb: number, tail: string, raw: boolean): Promise<Deflated> {
  const chunk = Buffer.from(unit.repeat(Math.max(1, Math.floor(MIB / unit.length))));
  const parts = [Buffer.from(head), ...Array.from({ length: expandedMb }, () => chunk), Buffer.from(tail)];
  let crc = 0;
  let size = 0;
  for (const part of parts) {
    crc = zlib.crc32(part, crc);
    size += part.length;
  }
  const deflate = raw ? zlib.createDeflateRaw({ level: 9, memLevel: 9 }) : zlib.createDeflate({ level: 9, memLevel: 9 });
  const compressed = await buffer(Readable.from(parts).pipe(deflate));
  return { compressed, crc, size };
}

/** A minimal zip archive (deflated entries, no zip64). */
export function zip(entries: Array<{ name: string } & Deflated>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt16LE(0x21, 12); // 1980-01-01
    local.writeUInt32LE(entry.crc >>> 0, 14);
    local.writeUInt32LE(entry.compressed.length, 18);
    local.writeUInt32LE(entry.size, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, entry.compressed);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(8, 10);
    central.writeUInt16LE(0x21, 14);
    central.writeUInt32LE(entry.crc >>> 0, 16);
    central.writeUInt32LE(entry.compressed.length, 20);
    central.writeUInt32LE(entry.size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += local.length + name.length + entry.compressed.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** A well-formed DOCX whose word/document.xml is about `expandedMb` MiB of paragraphs. */
export async function docxBomb(expandedMb = 100): Promise<Buffer> {
  const xml = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>';
  const small = async (name: string, text: string) => ({ name, ...(await deflateRepeated(text, ' ', 0, '', true)) });
  return zip([
    await small('[Content_Types].xml', `${xml}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">`
      + '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
      + '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'),
    await small('_rels/.rels', `${xml}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`
      + '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>'),
    {
      name: 'word/document.xml',
      ...(await deflateRepeated(
        `${xml}<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>`,
        '<w:p><w:r><w:t>The bomb paragraph repeats the same harmless words again and again.</w:t></w:r></w:p>',
        expandedMb,
        '<w:sectPr/></w:body></w:document>',
        true,
      )),
    },
  ]);
}

/** A well-formed one-page PDF whose FlateDecode content stream inflates to about `expandedMb` MiB of text operators. */
export async function pdfBomb(expandedMb = 300): Promise<Buffer> {
  const { compressed } = await deflateRepeated('', 'BT /F1 12 Tf 72 720 Td (The bomb line repeats the same harmless words again.) Tj ET\n', expandedMb, '', false);
  const parts: Buffer[] = [];
  const offsets: number[] = [];
  let size = 0;
  const push = (part: Buffer | string) => {
    const bytes = Buffer.isBuffer(part) ? part : Buffer.from(part, 'latin1');
    parts.push(bytes);
    size += bytes.length;
  };
  const object = (n: number, ...body: Array<Buffer | string>) => {
    offsets[n] = size;
    push(`${n} 0 obj\n`);
    body.forEach(push);
    push('\nendobj\n');
  };
  push('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n');
  object(1, '<< /Type /Catalog /Pages 2 0 R >>');
  object(2, '<< /Type /Pages /Kids [3 0 R] /Count 1 >>');
  object(3, '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>');
  object(4, `<< /Length ${compressed.length} /Filter /FlateDecode >>\nstream\n`, compressed, '\nendstream');
  object(5, '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>');
  const xref = size;
  push('xref\n0 6\n0000000000 65535 f \n');
  for (let n = 1; n <= 5; n++) push(`${String(offsets[n]).padStart(10, '0')} 00000 n \n`);
  push(`trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`);
  return Buffer.concat(parts);
}
