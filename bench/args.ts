/** Command-line options of the benchmarks: `--name value`. */
export function numberOption(args: readonly string[], name: string, def: number): number {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = Number(args[i + 1]);
  if (!Number.isFinite(v) || v < 0) throw new RangeError(`--${name} needs a non-negative number`);
  return v;
}

export function stringOption(args: readonly string[], name: string, def: string): string {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? def : (args[i + 1] ?? def);
}
