/** Help texts, generated from the command specs. */
import { PREFIX_ENV, STORE_ENV } from './parse.js';
import { COMMANDS, GLOBAL_OPTIONS, GROUP_TITLES, usageLine, type CommandGroup, type CommandSpec, type OptionSpec } from './spec.js';

function optionLine(o: OptionSpec): [string, string] {
  const names = `${o.short !== undefined ? `-${o.short}, ` : '    '}--${o.name}${o.kind === 'flag' ? '' : ` ${o.valueName ?? 'VALUE'}`}`;
  return [names, o.description];
}

function columns(rows: Array<[string, string]>, indent = '  '): string[] {
  const width = Math.max(...rows.map(([a]) => a.length));
  return rows.map(([a, b]) => `${indent}${a.padEnd(width)}  ${b}`);
}

/** `splinter help`: every command by group, the global options, the environment. */
export function generalHelp(interactive: boolean): string {
  const lines = [
    interactive ? 'Commands (type help COMMAND for one):' : 'usage: splinter [--use NAME|PATH] [--prefix P] [--json] COMMAND [ARGS…]',
    '',
  ];
  if (!interactive) {
    lines.push('Inspect and edit Splinter stores (format v4), live, beside C processes using them.', '');
  }
  const groups = new Map<CommandGroup, CommandSpec[]>();
  for (const spec of COMMANDS) {
    if (spec.interactiveOnly && !interactive) continue;
    const list = groups.get(spec.group) ?? [];
    list.push(spec);
    groups.set(spec.group, list);
  }
  for (const [group, specs] of groups) {
    lines.push(`${GROUP_TITLES[group]}:`);
    lines.push(...columns(specs.map((s) => [s.name, s.summary])));
    lines.push('');
  }
  lines.push('Options:');
  lines.push(...columns(GLOBAL_OPTIONS.map(optionLine)));
  lines.push('');
  lines.push('Environment:');
  lines.push(
    ...columns([
      [STORE_ENV, 'the store when --use is not given'],
      [PREFIX_ENV, 'the key prefix when --prefix is not given'],
      ['SPLINTER_HISTORY', 'history file of the interactive mode (default ~/.splinter_history; empty: none)'],
    ]),
  );
  lines.push('');
  lines.push('Exit status: 0 ok, 1 not found or failed check, 2 usage error.');
  if (!interactive) lines.push('Without a command on a terminal, splinter opens the interactive mode.');
  return lines.join('\n');
}

/** `splinter help COMMAND`. */
export function commandHelp(spec: CommandSpec): string {
  const lines = [`usage: ${usageLine(spec)}`, '', spec.summary];
  if (spec.aliases !== undefined && spec.aliases.length > 0) lines.push(`also: ${spec.aliases.join(', ')}`);
  if (spec.details !== undefined) lines.push('', ...spec.details);
  if (spec.options.length > 0) lines.push('', 'Options:', ...columns(spec.options.map(optionLine)));
  lines.push('', 'Examples:', ...spec.examples.map((e) => `  ${e.startsWith('echo') || e.startsWith('splinter') ? e : `splinter ${e}`}`));
  return lines.join('\n');
}
