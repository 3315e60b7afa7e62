/**
 * Direct I/O for shard data: reads and writes that bypass the kernel's page cache (O_DIRECT).
 *
 * A provider writes each shard once and reads it back rarely (a get, a repair, a challenge's
 * leaf), so caching its bytes in memory only costs: every page the cache takes is fresh memory
 * to fault in (expensive on virtual machines that back guest memory lazily: 1 GiB written through
 * the cache cost ~3.3 s of kernel time here, 0.04 s direct), the bytes are copied once more, and
 * the cache then evicts what the machine actually uses. Direct writes go from our buffer to the
 * device, so the fsync before an acknowledgement only flushes the device's cache.
 *
 * O_DIRECT needs the buffer's address, the file position and the length aligned to the device's
 * block size: buffers come from `alignedBuffer` (@ronomon/direct-io's posix_memalign, ALIGN
 * bytes), positions and lengths are whole pieces (≥ 4 KiB). A file system that refuses O_DIRECT
 * (tmpfs on older kernels, some network file systems) gets ordinary buffered I/O: `openData`
 * says which it got.
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { GroundworkError } from './errors.js';

/** Alignment of direct I/O buffers, positions and lengths (a page: every Linux block size divides it). */
export const ALIGN = 4096;

const directIo = createRequire(import.meta.url)('@ronomon/direct-io') as { getAlignedBuffer(size: number, alignment: number): Buffer };
const O_DIRECT = (constants as Record<string, number>).O_DIRECT ?? 0;
const aligned = new WeakSet<Buffer>();

/** A buffer of `size` bytes whose first byte sits at an ALIGN boundary (its contents are not zeroed). */
export function alignedBuffer(size: number): Buffer {
  const b = directIo.getAlignedBuffer(Math.max(ALIGN, Math.ceil(size / ALIGN) * ALIGN), ALIGN);
  aligned.add(b);
  return b;
}

/** Whether `buf` came from alignedBuffer (so a direct read or write may use it from its start). */
export function isAlignedBuffer(buf: Buffer | undefined): buf is Buffer {
  return buf !== undefined && aligned.has(buf);
}

/** Whether a transfer of `length` bytes at `position` may go direct (both whole ALIGN blocks). */
export function directSpan(position: number, length: number): boolean {
  return position % ALIGN === 0 && length % ALIGN === 0 && length > 0;
}

export interface DataFile {
  fh: FileHandle;
  /** Whether reads and writes bypass the page cache (then buffers, positions and lengths must be aligned). */
  direct: boolean;
}

/**
 * Opens a file for direct I/O: 'create' makes a new file for writing (it must not exist),
 * 'replace' creates or truncates one, 'read' opens one for reading. Direct when `direct` is asked
 * and the file system allows it.
 */
export async function openData(path: string, how: 'create' | 'replace' | 'read', direct: boolean, mode = 0o600): Promise<DataFile> {
  const { O_WRONLY, O_CREAT, O_EXCL, O_TRUNC, O_RDONLY } = constants;
  const base = how === 'create' ? O_WRONLY | O_CREAT | O_EXCL : how === 'replace' ? O_WRONLY | O_CREAT | O_TRUNC : O_RDONLY;
  if (direct && O_DIRECT !== 0) {
    try {
      return { fh: await open(path, base | O_DIRECT, mode), direct: true };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
      // The file system refuses O_DIRECT; Linux may have created the file before it checked.
      if (how !== 'read') return { fh: await open(path, O_WRONLY | O_CREAT | O_TRUNC, mode), direct: false };
    }
  }
  return { fh: await open(path, base, mode), direct: false };
}

/** Writes all of `data` at `position` (explicit positions: writes may overlap in time). */
export async function writeAllAt(fh: FileHandle, data: Uint8Array, position: number): Promise<void> {
  let n = 0;
  while (n < data.length) {
    const { bytesWritten } = await fh.write(data, n, data.length - n, position + n);
    n += bytesWritten;
  }
}

/**
 * Two equal buffers filled in turn, for a writer that processes one while the next fills:
 * `add` copies bytes into the current buffer and, each time it is full, calls `swap`, which hands
 * it to `onFull(buffer, bytes, index)` and fills the other. onFull must return once the other
 * buffer is free again (typically: start using this one, await the work started on the other).
 */
export class DoubleBuffer {
  private current = 0;
  /** Bytes in the current buffer. */
  fill = 0;

  constructor(
    readonly buffers: readonly [Buffer, Buffer],
    private readonly onFull: (buf: Buffer, bytes: number, index: number) => Promise<void>,
  ) {}

  /** The buffer being filled. */
  get active(): Buffer {
    return this.buffers[this.current] as Buffer;
  }

  /** Copies `chunk` in (the caller may reuse it once this resolves). */
  async add(chunk: Uint8Array): Promise<void> {
    const size = this.active.length;
    for (let o = 0; o < chunk.length; ) {
      const n = Math.min(size - this.fill, chunk.length - o);
      this.active.set(chunk.subarray(o, o + n), this.fill);
      this.fill += n;
      o += n;
      if (this.fill === size) await this.swap();
    }
  }

  /** Hands the current buffer's bytes (also a last, partial one) to onFull and fills the other. */
  async swap(): Promise<void> {
    const index = this.current;
    const bytes = this.fill;
    this.current ^= 1;
    this.fill = 0;
    await this.onFull(this.buffers[index] as Buffer, bytes, index);
  }
}

/** Bytes a FileWriter gathers per write (and holds twice: one buffer fills while the other is written). */
const STAGE = 8 << 20;

/**
 * A file written front to back, direct where the file system allows it: what `write` is given
 * is gathered into aligned STAGE-byte buffers, each written while the next fills; `end` writes
 * the tail (its last partial block through an ordinary descriptor, as O_DIRECT cannot) and
 * closes. For large outputs (a get of a stored file) that are not read back at once: the bytes
 * go to the disk without taking the page cache.
 */
export class FileWriter {
  private readonly stages: DoubleBuffer;
  private position = 0;
  private writing: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly path: string,
    private readonly file: DataFile,
    private readonly mode: number,
  ) {
    this.stages = new DoubleBuffer([alignedBuffer(STAGE), alignedBuffer(STAGE)], (buf, bytes) => this.flush(buf, bytes));
  }

  /** Creates (or truncates) `path`. */
  static async open(path: string, opts: { direct?: boolean; mode?: number } = {}): Promise<FileWriter> {
    const mode = opts.mode ?? 0o644;
    return new FileWriter(path, await openData(path, 'replace', opts.direct !== false, mode), mode);
  }

  /** Whether the bytes bypass the page cache. */
  get direct(): boolean {
    return this.file.direct;
  }

  /** Bytes given to write so far. */
  get bytes(): number {
    return this.position + this.stages.fill;
  }

  /** Appends `chunk` (copied: the caller may reuse it once this resolves). */
  async write(chunk: Uint8Array): Promise<void> {
    if (this.closed) throw new GroundworkError('OUTPUT_CLOSED', `${this.path} was closed before everything was written`);
    await this.stages.add(chunk);
  }

  /** Starts writing a full stage; returns once the previous stage's write finished (its buffer is free). */
  private async flush(buf: Buffer, bytes: number): Promise<void> {
    const at = this.position;
    const previous = this.writing;
    this.writing = previous.then(() => writeAllAt(this.file.fh, buf.subarray(0, bytes), at));
    this.writing.catch(() => {}); // awaited by the next flush or end
    this.position += bytes;
    await previous;
  }

  /** Writes what is left and closes the file. */
  async end(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      const tail = this.stages.fill;
      const buf = this.stages.active;
      const whole = this.file.direct ? tail - (tail % ALIGN) : tail;
      if (whole > 0) {
        await this.writing;
        this.writing = writeAllAt(this.file.fh, buf.subarray(0, whole), this.position);
        this.position += whole;
      }
      await this.writing;
      if (whole < tail) {
        // O_DIRECT writes whole blocks only: the last partial one goes through the page cache.
        const fh = await open(this.path, constants.O_WRONLY, this.mode);
        try {
          await writeAllAt(fh, buf.subarray(whole, tail), this.position);
        } finally {
          await fh.close();
        }
        this.position += tail - whole;
      }
      this.stages.fill = 0;
    } finally {
      await this.file.fh.close();
    }
  }

  /** Closes without writing what is left (the file stays as far as it got; the caller removes it). */
  async destroy(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writing.catch(() => {});
    await this.file.fh.close();
  }
}
