/** The health group: doctor (damage found, and repaired on request) and stats. */
import { Store } from '../../facade/store.js';
import { resolveTarget } from '../../facade/inspect.js';
import { CLI_CONTENTION_BUDGET_MS } from '../context.js';
import { diagnose, repair, type Diagnosis, type Finding, type Repair, type RepairOutcome } from '../doctor.js';
import { collectStats, renderStats } from '../stats.js';
import { CliFailure } from '../usage-error.js';
import { counted } from '../values.js';
import type { Handler } from './handler.js';

const DEFAULT_DOCTOR_WAIT_MS = 100;

function whereOf(target: string): string {
  const resolved = resolveTarget(target);
  return resolved.kind === 'shm' ? `shared-memory store ${JSON.stringify(target)}` : `store file ${target}`;
}

const REPAIR_TEXT: Record<Repair, string> = { drop: 'clear the slot, dropping the key', clear: 'clear the slot', 'remove-duplicate': 'remove the stale copy' };

function findingLine(f: Finding): string {
  const fix = f.repair === undefined ? '' : `  [--repair: ${REPAIR_TEXT[f.repair]}]`;
  return `  ${f.severity === 'damage' ? 'DAMAGE' : 'note  '}  ${f.kind.padEnd(18)}  ${f.message}${fix}`;
}

function summarise(d: Diagnosis, verbose: boolean): { damage: Finding[]; lines: string[] } {
  const damage = d.findings.filter((f) => f.severity === 'damage');
  const lines = d.findings.filter((f) => verbose || f.severity === 'damage').map(findingLine);
  return { damage, lines };
}

export const doctor: Handler = async (ctx) => {
  const target = ctx.inv.args[0] ?? ctx.target();
  const resolved = resolveTarget(target);
  const where = whereOf(target);
  const waitMs = (ctx.option('wait') as number | undefined) ?? DEFAULT_DOCTOR_WAIT_MS;
  const verbose = ctx.flag('verbose');
  const run = async (): Promise<Diagnosis> => {
    try {
      return await diagnose(resolved.path, where, waitMs);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new CliFailure('ENOENT', `doctor: ${where} does not exist (${resolved.path})`);
      if (code === 'EACCES' || code === 'EPERM') throw new CliFailure('EACCES', `doctor: cannot read ${resolved.path}: permission denied`);
      if (code === 'ENOTFILE' || code === 'EISDIR') throw new CliFailure('EINVAL', `doctor: ${resolved.path} is not a regular file`);
      throw error;
    }
  };
  const first = await run();
  const report = summarise(first, verbose);
  const geometry =
    first.slots === undefined ? '' : `: ${counted(first.slots, 'slot')} × ${counted(first.maxValueSize!, 'byte')}${first.embeddings ? ' with embeddings' : ''}, ${counted(first.liveKeys, 'key')}`;
  let repairs: RepairOutcome[] = [];
  let after: Diagnosis | undefined;
  if (ctx.flag('repair') && report.damage.some((f) => f.repair !== undefined)) {
    ctx.session.forget(target);
    const store = Store.open(target, { contentionBudgetMs: CLI_CONTENTION_BUDGET_MS, trustShared: ctx.trustShared });
    try {
      repairs = repair(store, report.damage);
    } finally {
      store.close();
    }
    after = await run();
  }
  const dropped = repairs.flatMap((r) => (r.dropped === undefined ? [] : [{ slot: r.finding.slot!, key: r.dropped }]));
  const final = after ?? first;
  const remaining = final.findings.filter((f) => f.severity === 'damage');
  if (ctx.json) {
    ctx.jsonOut({
      target,
      ...first,
      ok: remaining.length === 0,
      ...(after === undefined ? {} : { repairs: repairs.map((r) => ({ kind: r.finding.kind, slot: r.finding.slot, done: r.done, action: r.action })), dropped, after }),
    });
    return remaining.length === 0 ? 0 : 1;
  }
  ctx.line(`doctor: ${where}${geometry}`);
  for (const line of report.lines) ctx.line(line);
  if (report.damage.length === 0) {
    ctx.line(first.waitedMs === 0 ? 'ok: no damage found' : `ok: no damage found (what looked wrong was sampled again after ${first.waitedMs} ms)`);
    return 0;
  }
  if (after === undefined) {
    const repairable = report.damage.filter((f) => f.repair !== undefined).length;
    const hint = repairable > 0 && !ctx.flag('repair') ? `; ${repairable} can be repaired with --repair` : '';
    ctx.line(`${report.damage.length} problem${report.damage.length === 1 ? '' : 's'} found${hint}`);
    return 1;
  }
  for (const r of repairs) ctx.line(`  ${r.done ? 'repaired' : 'FAILED  '}  ${r.action}`);
  if (dropped.length > 0) ctx.line(`dropped ${dropped.length} key${dropped.length === 1 ? '' : 's'} whose value a dead writer left partial: ${dropped.map((d) => JSON.stringify(d.key)).join(', ')}`);
  if (remaining.length === 0) {
    ctx.line('ok: no damage left');
    return 0;
  }
  ctx.line(`${remaining.length} problem${remaining.length === 1 ? '' : 's'} left:`);
  for (const f of remaining) ctx.line(findingLine(f));
  return 1;
};

export const stats: Handler = (ctx) => {
  const target = ctx.target();
  const store = ctx.store();
  const s = collectStats(store, resolveTarget(target).path);
  if (ctx.json) ctx.jsonOut(s);
  else ctx.line(renderStats(s));
};
