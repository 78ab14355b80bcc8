/**
 * Running fast-check properties under tap: run counts and replay from the environment, and
 * a failure report (seed, path, shrunk counterexample) that tap prints in full.
 *
 *   SPLINTER_PROPS_RUNS=N          runs per property (default: each suite's own)
 *   SPLINTER_PROPS_SEED=S          replay: the seed a failure printed
 *   SPLINTER_PROPS_PATH=P          replay: the path a failure printed (with its seed)
 *   SPLINTER_PROPS_REPLAY=R        replay: the replayPath a model failure printed (fc.commands)
 *
 * Long runs need tap's per-file timeout (120 s in .taprc) lifted: `npx tap -t 0 props/…`.
 */
import fc from 'fast-check';
import type { Test } from 'tap';

export function envInt(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n)) throw new Error(`${name} must be an integer, received ${JSON.stringify(raw)}`);
  return n;
}

export function numRuns(defaultRuns: number): number {
  return envInt('SPLINTER_PROPS_RUNS') ?? defaultRuns;
}

export function replayPath(): string | undefined {
  const raw = process.env['SPLINTER_PROPS_REPLAY'];
  return raw === undefined || raw === '' ? undefined : raw;
}

/** fc.assert's parameters for this run: runs, and the seed/path to replay if given. */
export function parameters<T>(defaultRuns: number, extra: fc.Parameters<T> = {}): fc.Parameters<T> {
  const params: fc.Parameters<T> = { numRuns: numRuns(defaultRuns), verbose: fc.VerbosityLevel.Verbose, ...extra };
  // Always an explicit seed, so a suite can name it (e.g. in a hang report) before fast-check ends.
  params.seed = envInt('SPLINTER_PROPS_SEED') ?? (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) | 0;
  const path = process.env['SPLINTER_PROPS_PATH'];
  if (path !== undefined && path !== '') params.path = path;
  return params;
}

/**
 * Checks an async property; on failure, fails the tap test with fast-check's whole report
 * (seed, path, the shrunk counterexample, the error) and prints it to stderr too.
 */
export async function checkProperty<T>(
  t: Test,
  label: string,
  property: fc.IAsyncProperty<T> | fc.IProperty<T>,
  params: fc.Parameters<T>,
  extraReplay?: (details: fc.RunDetails<T>) => string,
): Promise<fc.RunDetails<T>> {
  const started = performance.now();
  const details = await fc.check(property, params);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (details.failed) {
    const report = fc.defaultReportMessage(details) ?? 'property failed (no report)';
    const error = details.errorInstance;
    const errorText = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    const replay =
      `SPLINTER_PROPS_SEED=${details.seed} SPLINTER_PROPS_PATH=${JSON.stringify(details.counterexamplePath ?? '')}` +
      (extraReplay === undefined ? '' : ` ${extraReplay(details)}`);
    process.stderr.write(`\n${label} FAILED\n${report}\nError of the shrunk counterexample:\n${errorText}\nReplay: ${replay}\n`);
    t.fail(`${label}: property failed (seed ${details.seed}, path ${details.counterexamplePath ?? ''})`, {
      diagnostic: true,
      report,
      error: errorText,
      replay,
    });
  } else {
    t.pass(`${label}: ${details.numRuns} runs, ${details.numSkips} skipped, ${seconds} s (seed ${details.seed})`);
  }
  return details;
}

/**
 * fc.commands that always generates at least `min` commands but shrinks freely below that
 * (a filter would stop shrinking at `min` and hide the short counterexample).
 */
export class AtLeast<T> extends fc.Arbitrary<Iterable<T>> {
  constructor(
    private readonly inner: fc.Arbitrary<Iterable<T>>,
    private readonly min: number,
  ) {
    super();
  }

  generate(mrng: fc.Random, biasFactor: number | undefined): fc.Value<Iterable<T>> {
    for (;;) {
      const value = this.inner.generate(mrng, biasFactor);
      if ([...value.value_].length >= this.min) return value;
    }
  }

  canShrinkWithoutContext(value: unknown): value is Iterable<T> {
    return this.inner.canShrinkWithoutContext(value);
  }

  shrink(value: Iterable<T>, context: unknown): fc.Stream<fc.Value<Iterable<T>>> {
    return this.inner.shrink(value, context);
  }
}
