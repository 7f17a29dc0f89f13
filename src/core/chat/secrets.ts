// Keeps a provider's API key out of everything Dana shows or stores. A model server may
// echo the key back (in its reply or an error), spelled as sent or encoded, so every
// spelling an upstream is likely to produce is replaced with ***: as is, in either case,
// URL-encoded, JSON-escaped, hex, and base64 (alone or inside "Bearer key", "user:key").

const MASK = '***';
// Base64 runs shorter than this would match ordinary text by chance.
const MIN_BASE64_CHARS = 8;

export class SecretMask {
  private readonly pattern?: RegExp;
  /** The longest spelling: a streamed tail this long may still turn into a match. */
  private readonly longest: number;
  private pending = '';

  constructor(secret: string | undefined) {
    const spellings = secret ? spellingsOf(secret) : [];
    this.longest = Math.max(0, ...spellings.map((spelling) => spelling.text.length));
    if (spellings.length) {
      const alternatives = spellings
        .sort((a, b) => b.text.length - a.text.length)
        .map(({ text, anyCase }) => (anyCase ? caseless(text) : escapeRegExp(text)));
      this.pattern = new RegExp(alternatives.join('|'), 'g');
    }
  }

  /** The text with every spelling of the secret masked. */
  apply(text: string): string {
    return this.pattern ? text.replace(this.pattern, MASK) : text;
  }

  /**
   * The next piece of a stream that is safe to show: text that could be the start of the
   * secret split across deltas is held back until the next push or `flush`.
   */
  push(text: string): string {
    if (!this.pattern) return text;
    this.pending += text;
    // A spelling that starts before `cut` is wholly inside `pending`: it is decided.
    const cut = this.pending.length - (this.longest - 1);
    if (cut <= 0) return '';
    let shown = '';
    let done = 0;
    for (const match of this.pending.matchAll(this.pattern)) {
      if (match.index >= cut) break;
      shown += this.pending.slice(done, match.index) + MASK;
      done = match.index + match[0].length;
    }
    let end = Math.max(cut, done);
    // Never split a surrogate pair between two deltas.
    if (end > done && /[\ud800-\udbff]/.test(this.pending[end - 1])) end -= 1;
    shown += this.pending.slice(done, end);
    this.pending = this.pending.slice(end);
    return shown;
  }

  /** What the stream still holds back, masked: call once it has ended. */
  flush(): string {
    const rest = this.apply(this.pending);
    this.pending = '';
    return rest;
  }
}

interface Spelling {
  text: string;
  anyCase: boolean;
}

function spellingsOf(secret: string): Spelling[] {
  const bytes = Buffer.from(secret, 'utf8');
  const plain = [
    secret,
    encodeURIComponent(secret),
    JSON.stringify(secret).slice(1, -1),
    JSON.stringify(secret).slice(1, -1).replaceAll('/', '\\/'),
    bytes.toString('hex'),
  ].map((text) => ({ text, anyCase: true }));
  const base64 = base64Cores(bytes).flatMap((core) => [core, core.replaceAll('+', '-').replaceAll('/', '_')]);
  const unique = new Map<string, Spelling>();
  for (const spelling of [...plain, ...base64.map((text) => ({ text, anyCase: false }))]) {
    if (spelling.text) unique.set(`${spelling.anyCase}:${spelling.text}`, spelling);
  }
  return [...unique.values()];
}

/**
 * The base64 characters that encode only the secret's bytes, for each of the three ways
 * text before it ("Bearer ", "user:") can align it. They appear in any base64 of a text
 * containing the secret, whatever comes before or after.
 */
function base64Cores(bytes: Buffer): string[] {
  const cores: string[] = [];
  for (let offset = 0; offset < 3; offset++) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    const firstGroup = Math.ceil(offset / 3);
    const lastGroup = Math.floor((offset + bytes.length - 3) / 3);
    if (lastGroup < firstGroup) continue;
    const core = encoded.slice(firstGroup * 4, (lastGroup + 1) * 4);
    if (core.length >= MIN_BASE64_CHARS) cores.push(core);
  }
  return cores;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

function caseless(text: string): string {
  return [...text].map((char) => {
    const lower = char.toLowerCase();
    const upper = char.toUpperCase();
    return lower !== upper && lower.length === 1 && upper.length === 1 ? `[${lower}${upper}]` : escapeRegExp(char);
  }).join('');
}
