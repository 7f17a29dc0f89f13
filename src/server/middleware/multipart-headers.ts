// Part headers with raw control characters (a file named "a\u0001b.txt" sent by a careless
// client) make busboy reject the whole form. This filter drops those bytes from part
// headers only, passing every byte of the part bodies through untouched, so the upload
// is accepted and the name sanitised like any other.
import { Transform, type TransformCallback } from 'node:stream';

const CR = 13;
const LF = 10;
const TAB = 9;

/** The boundary parameter of a multipart Content-Type, if any. */
export function multipartBoundary(contentType: string | undefined): string | undefined {
  const match = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '');
  return match ? match[1] ?? match[2] : undefined;
}

export class MultipartHeaderFilter extends Transform {
  private readonly delimiter: Buffer;
  private inHeaders = false;
  private headerTail = 0;
  private carry: Buffer;
  // A virtual CRLF in front of the body lets the first delimiter ("--boundary" at offset 0)
  // be found like every later one ("\r\n--boundary"); it is never emitted.
  private virtualPrefix = 2;

  constructor(boundary: string) {
    super();
    this.delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
    this.carry = Buffer.from('\r\n');
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const { data, position: start } = this.joinCarry(chunk);
    let position = start;
    while (position < data.length) {
      if (!this.inHeaders) {
        const found = data.indexOf(this.delimiter, position);
        if (found === -1) {
          // Keep a possible partial delimiter for the next chunk.
          const keepFrom = Math.max(position, data.length - (this.delimiter.length - 1));
          this.emit_(data.subarray(position, keepFrom));
          this.carry = Buffer.from(data.subarray(keepFrom));
          return callback();
        }
        const end = found + this.delimiter.length;
        this.emit_(data.subarray(position, end));
        position = end;
        this.inHeaders = true;
        this.headerTail = 0;
        continue;
      }
      position = this.copyHeaders(data, position);
    }
    callback();
  }

  /**
   * Deals with the bytes held back from the previous chunk (a possible start of a
   * delimiter) without copying the new chunk: only a delimiter straddling the two is
   * looked for in a small joined probe.
   */
  private joinCarry(chunk: Buffer): { data: Buffer; position: number } {
    const carry = this.carry;
    this.carry = Buffer.alloc(0);
    if (!carry.length) return { data: chunk, position: 0 };
    const tail = this.delimiter.length - 1;
    if (chunk.length < tail) return { data: Buffer.concat([carry, chunk]), position: 0 };
    const probe = Buffer.concat([carry, chunk.subarray(0, tail)]);
    const found = probe.indexOf(this.delimiter);
    if (found === -1) {
      this.emit_(carry);
      return { data: chunk, position: 0 };
    }
    const end = found + this.delimiter.length;
    this.emit_(probe.subarray(0, end));
    this.inHeaders = true;
    this.headerTail = 0;
    return { data: chunk, position: end - carry.length };
  }

  override _flush(callback: TransformCallback): void {
    this.emit_(this.carry);
    callback();
  }

  /** Copies header bytes without control characters until the blank line that ends them. */
  private copyHeaders(data: Buffer, start: number): number {
    const kept: number[] = [];
    let position = start;
    for (; position < data.length; position++) {
      const byte = data[position];
      if ((byte < 32 && byte !== CR && byte !== LF && byte !== TAB) || byte === 127) continue;
      kept.push(byte);
      // Track the CR LF CR LF that ends the headers.
      this.headerTail = byte === (this.headerTail % 2 === 0 ? CR : LF) ? this.headerTail + 1 : byte === CR ? 1 : 0;
      if (this.headerTail === 4) {
        position++;
        this.inHeaders = false;
        break;
      }
    }
    this.emit_(Buffer.from(kept));
    return position;
  }

  private emit_(bytes: Buffer): void {
    let out = bytes;
    if (this.virtualPrefix > 0) {
      const skip = Math.min(this.virtualPrefix, out.length);
      this.virtualPrefix -= skip;
      out = out.subarray(skip);
    }
    if (out.length) this.push(out);
  }
}
