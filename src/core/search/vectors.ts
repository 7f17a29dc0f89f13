// Stored passage vectors and the nearest-neighbour search over them, the same on both
// backends (PostgreSQL here has no pgvector). Each vector is kept twice in its row: unit
// length as Float32 (exact cosine) and as its sign bits (one bit per dimension). A search
// scans the sign bits of every passage in scope by Hamming distance, from a compact copy
// held in memory (32 bytes a passage at 256 dimensions), then reads the Float32 vectors of
// the best 128 candidates only (over ten times the passages a chat quotes) and ranks them
// by exact cosine. On the 2-core machine Dana is developed on, an exact scan of 100,000
// vectors of 256 dimensions took 70 ms in JavaScript and 240 ms with sqlite-vec (scalar
// function or vec0 brute force, which also needs a table per dimension count); this
// two-stage search costs the Hamming scan plus the candidates' reads (bench/embeddings.mjs).
import type { SqlRunner } from '../db/dialects.js';

/** Candidates ranked by exact cosine after the Hamming pass; all of them when the scope is smaller. */
const RESCORED_CANDIDATES = 128;
/** How often the stored rows of a model are counted, to drop the codes of removed ones. */
const RECOUNT_MS = 10_000;

export interface EncodedVector {
  /** Float32 values of the unit-length vector, in the platform's byte order (little-endian). */
  vector: Buffer;
  /** Bit i of 32-bit word i/32 is set when dimension i is positive. */
  bits: Buffer;
}

export function encodeVector(values: ArrayLike<number>): EncodedVector {
  const unit = unitVector(values);
  return { vector: Buffer.from(unit.buffer), bits: Buffer.from(signBits(unit).buffer) };
}

export function unitVector(values: ArrayLike<number>): Float32Array {
  let norm = 0;
  for (let i = 0; i < values.length; i++) norm += values[i] * values[i];
  norm = Math.sqrt(norm) || 1;
  const unit = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) unit[i] = values[i] / norm;
  return unit;
}

function signBits(values: Float32Array): Uint32Array {
  const words = new Uint32Array(Math.ceil(values.length / 32));
  for (let i = 0; i < values.length; i++) if (values[i] > 0) words[i >>> 5] |= 1 << (i & 31);
  return words;
}

/** A copy of a blob's bytes as a typed array (blobs need not be aligned). */
function floatsOf(blob: Uint8Array): Float32Array {
  return new Float32Array(blob.buffer.slice(blob.byteOffset, blob.byteOffset + blob.byteLength));
}

/** The sign bits of one model's vectors, in row order, as held in memory. */
interface ModelCodes {
  count: number;
  maxRowId: number;
  /** 32-bit words per vector. */
  words: number;
  passageIds: Int32Array;
  documentIds: Int32Array;
  bits: Uint32Array;
}

export interface VectorMatch {
  passageId: number;
  /** Cosine similarity, -1..1. */
  score: number;
}

export class VectorIndex {
  private readonly codes = new Map<string, ModelCodes>();
  private readonly refreshing = new Map<string, Promise<ModelCodes>>();
  /** When each model's rows were last counted (to notice removed rows). */
  private readonly counted = new Map<string, number>();

  constructor(private readonly sql: SqlRunner) {}

  /** How many vectors of this model are stored (any process may have added some). */
  async count(model: string): Promise<number> {
    return (await this.codesOf(model)).count;
  }

  /** The passages of these documents nearest to the query, best first. */
  async search(model: string, query: ArrayLike<number>, documentIds: ReadonlySet<number>, limit: number): Promise<VectorMatch[]> {
    const codes = await this.codesOf(model);
    if (!codes.count || !documentIds.size) return [];
    const unit = unitVector(query);
    const queryBits = signBits(unit);
    if (queryBits.length !== codes.words) throw new Error(`the query has ${unit.length} dimensions, the stored vectors of "${model}" about ${codes.words * 32}`);
    const candidates = nearestCodes(codes, queryBits, documentIds, Math.max(RESCORED_CANDIDATES, limit * 4));
    if (!candidates.length) return [];
    const rows = await this.sql.all<{ passage_id: number; vector: Uint8Array }>(
      `SELECT passage_id, vector FROM passage_embeddings WHERE model = ? AND passage_id IN (${candidates.map(() => '?').join(', ')})`,
      [model, ...candidates],
    );
    const matches: VectorMatch[] = [];
    for (const row of rows) {
      const vector = floatsOf(row.vector);
      if (vector.length !== unit.length) continue;
      let score = 0;
      for (let i = 0; i < vector.length; i++) score += vector[i] * unit[i];
      matches.push({ passageId: Number(row.passage_id), score });
    }
    return matches.sort((a, b) => b.score - a.score || a.passageId - b.passageId).slice(0, limit);
  }

  /**
   * The model's codes, brought up to date with one cheap query (the newest row id, from
   * the index): rows added since are appended. Rows removed (a document deleted or
   * reindexed) cost nothing but a candidate slot until the next recount (the rescoring
   * reads only rows that still exist); a recount, which scans the model's rows, runs at
   * most every RECOUNT_MS and beside the search, never in its way.
   */
  private codesOf(model: string): Promise<ModelCodes> {
    const pending = this.refreshing.get(model);
    if (pending) return pending;
    const refresh = this.refresh(model).finally(() => this.refreshing.delete(model));
    this.refreshing.set(model, refresh);
    return refresh;
  }

  private async refresh(model: string): Promise<ModelCodes> {
    const newest = await this.sql.first<{ max_id: number | string | null }>('SELECT MAX(id) AS max_id FROM passage_embeddings WHERE model = ?', [model]);
    const maxRowId = Number(newest?.max_id ?? 0);
    let codes = this.codes.get(model);
    if (!codes || maxRowId < codes.maxRowId) {
      codes = emptyCodes();
      await this.append(model, codes);
      this.codes.set(model, codes);
      this.counted.set(model, Date.now());
      return codes;
    }
    if (maxRowId > codes.maxRowId) await this.append(model, codes);
    if (Date.now() - (this.counted.get(model) ?? 0) > RECOUNT_MS) {
      this.counted.set(model, Date.now());
      void this.recount(model, codes).catch(() => undefined);
    }
    return codes;
  }

  /** Reads the model's codes again when rows were removed since they were read. */
  private async recount(model: string, codes: ModelCodes): Promise<void> {
    const counted = await this.sql.first<{ count: number | string }>('SELECT COUNT(*) AS count FROM passage_embeddings WHERE model = ? AND id <= ?', [model, codes.maxRowId]);
    if (Number(counted?.count ?? 0) === codes.count || this.codes.get(model) !== codes) return;
    const fresh = emptyCodes();
    await this.append(model, fresh);
    if (this.codes.get(model) === codes) this.codes.set(model, fresh);
  }

  private async append(model: string, codes: ModelCodes): Promise<void> {
    const rows = await this.sql.all<{ id: number; passage_id: number; document_id: number; bits: Uint8Array }>(
      'SELECT id, passage_id, document_id, bits FROM passage_embeddings WHERE model = ? AND id > ? ORDER BY id',
      [model, codes.maxRowId],
    );
    if (!rows.length) return;
    if (!codes.words) codes.words = rows[0].bits.byteLength / 4;
    grow(codes, codes.count + rows.length);
    for (const row of rows) {
      codes.maxRowId = Math.max(codes.maxRowId, Number(row.id));
      // A model whose vectors changed length: only the first length is searched until reindexed.
      if (row.bits.byteLength !== codes.words * 4) continue;
      codes.passageIds[codes.count] = Number(row.passage_id);
      codes.documentIds[codes.count] = Number(row.document_id);
      codes.bits.set(new Uint32Array(row.bits.buffer.slice(row.bits.byteOffset, row.bits.byteOffset + row.bits.byteLength)), codes.count * codes.words);
      codes.count++;
    }
  }
}

function emptyCodes(): ModelCodes {
  return { count: 0, maxRowId: 0, words: 0, passageIds: new Int32Array(0), documentIds: new Int32Array(0), bits: new Uint32Array(0) };
}

function grow(codes: ModelCodes, size: number): void {
  if (codes.passageIds.length >= size) return;
  const capacity = Math.max(size, codes.passageIds.length * 2, 1024);
  const passageIds = new Int32Array(capacity);
  passageIds.set(codes.passageIds);
  const documentIds = new Int32Array(capacity);
  documentIds.set(codes.documentIds);
  const bits = new Uint32Array(capacity * codes.words);
  bits.set(codes.bits);
  Object.assign(codes, { passageIds, documentIds, bits });
}

/** The passage ids of the `wanted` codes in scope nearest the query by Hamming distance. */
function nearestCodes(codes: ModelCodes, query: Uint32Array, documentIds: ReadonlySet<number>, wanted: number): number[] {
  const { words, bits, count } = codes;
  const maxDistance = words * 32;
  const distances = new Uint16Array(count);
  const histogram = new Uint32Array(maxDistance + 2);
  const outOfScope = maxDistance + 1;
  let lastDocument = -1;
  let lastInScope = false;
  for (let row = 0; row < count; row++) {
    const document = codes.documentIds[row];
    if (document !== lastDocument) {
      lastDocument = document;
      lastInScope = documentIds.has(document);
    }
    if (!lastInScope) {
      distances[row] = outOfScope;
      continue;
    }
    let distance = 0;
    const offset = row * words;
    for (let word = 0; word < words; word++) distance += popcount(bits[offset + word] ^ query[word]);
    distances[row] = distance;
    histogram[distance]++;
  }
  // The distance below which there are fewer than `wanted` codes: those, then ties up to `wanted`.
  let threshold = 0;
  for (let seen = 0; threshold <= maxDistance && seen + histogram[threshold] <= wanted; threshold++) seen += histogram[threshold];
  const nearest: number[] = [];
  const ties: number[] = [];
  for (let row = 0; row < count; row++) {
    if (distances[row] < threshold) nearest.push(codes.passageIds[row]);
    else if (distances[row] === threshold && threshold <= maxDistance) ties.push(codes.passageIds[row]);
  }
  return nearest.concat(ties.slice(0, Math.max(0, wanted - nearest.length)));
}

function popcount(value: number): number {
  let x = value - ((value >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}
