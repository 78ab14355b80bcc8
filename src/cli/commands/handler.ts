/** What every command is: a function of its Context that prints and returns an exit code (none: 0). */
import type { Context } from '../context.js';

export type Handler = (ctx: Context) => Promise<number | void> | number | void;
