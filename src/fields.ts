// Small typed parsers for action inputs. A FieldReader collects every problem (each naming
// its input) and returns a typed placeholder for a bad value, so a caller builds its settings
// object without casts and decides at the end whether any problem was found.

export type InputReader = (name: string) => string;

export interface Range {
  min?: number;
  max?: number;
}

// eslint-disable-next-line no-control-regex
export const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

export function show(value: string): string {
  const chars = [...value];
  return JSON.stringify(chars.length > 60 ? `${chars.slice(0, 57).join('')}...` : value);
}

function describeRange({ min, max }: Range): string {
  if (min !== undefined && max !== undefined) return ` from ${min} to ${max}`;
  if (min !== undefined) return ` ≥ ${min}`;
  if (max !== undefined) return ` ≤ ${max}`;
  return '';
}

const ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

export class FieldReader {
  readonly errors: string[] = [];
  readonly warnings: string[] = [];

  constructor(
    private readonly read: InputReader,
    private readonly defaults: Readonly<Record<string, string>>,
  ) {}

  /** The trimmed input, or its declared default when empty. */
  text(name: string): string {
    return (this.read(name) ?? '').trim() || (this.defaults[name] ?? '');
  }

  optional(name: string): string | undefined {
    return this.text(name) || undefined;
  }

  fail(message: string): void {
    this.errors.push(message);
  }

  warn(message: string): void {
    this.warnings.push(message);
  }

  bool(name: string): boolean {
    const value = this.text(name);
    if (['true', 'True', 'TRUE'].includes(value)) return true;
    if (!['false', 'False', 'FALSE'].includes(value)) this.fail(`${name}: must be true or false (got ${show(value)})`);
    return false;
  }

  integer(name: string, range: Range = {}): number {
    return this.optionalInteger(name, range) ?? range.min ?? 0;
  }

  optionalInteger(name: string, range: Range = {}): number | undefined {
    const value = this.optional(name);
    if (value === undefined) return undefined;
    const n = /^[+-]?\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(n) || (range.min !== undefined && n < range.min) || (range.max !== undefined && n > range.max)) {
      this.fail(`${name}: must be a whole number${describeRange(range)} (got ${show(value)})`);
      return undefined;
    }
    return n;
  }

  decimal(name: string, range: Required<Range>): number {
    const value = this.text(name);
    const n = /^\+?(\d+(\.\d*)?|\.\d+)$/.test(value) ? Number(value) : Number.NaN;
    if (!(n >= range.min && n <= range.max)) {
      this.fail(`${name}: must be a number${describeRange(range)} (got ${show(value)})`);
      return range.min;
    }
    return n;
  }

  oneOf<T extends string>(name: string, allowed: readonly [T, ...T[]]): T {
    const value = this.text(name).toLowerCase();
    const match = allowed.find((a) => a === value);
    if (match === undefined) this.fail(`${name}: must be one of ${allowed.join(', ')} (got ${show(this.text(name))})`);
    return match ?? allowed[0];
  }

  /** A Loops ID (session, run): letters, digits, '-' or '_'. */
  id(name: string): string | undefined {
    const value = this.optional(name);
    if (value !== undefined && !ID_PATTERN.test(value)) {
      this.fail(`${name}: must be a Loops ID (letters, digits, '-' or '_'; got ${show(value)})`);
      return undefined;
    }
    return value;
  }
}
