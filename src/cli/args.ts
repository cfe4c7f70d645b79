// Strict command-line parsing for every command, on node:util parseArgs (docs/decisions.md): each
// command declares its options; anything else is refused with the command's usage (exit 2), except
// configuration flags (`--section.key=value`, a top-level key, or a short alias such as --brokers),
// which go to the configuration loader, where an unknown key is refused with the closest known one.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { schemaAt, TOP_LEVEL_KEYS } from '../config/keys.js';
import { FLAG_ALIASES } from '../config/load.js';
import { z } from 'zod';
import { didYouMean } from '../util/suggest.js';

/** A usage mistake: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
}

export interface CommandSpec {
  /** The command's own options (--help/-h is always there). */
  options: Record<string, OptionSpec>;
  /** Whether configuration flags are accepted (every command that reads the configuration). */
  config: boolean;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
  /** The configuration flags, in order, as `--key=value` for the loader. */
  configFlags: string[];
  help: boolean;
}

const HELP: OptionSpec = { type: 'boolean', short: 'h' };

/** A flag name the configuration loader takes: a dotted key, a top-level key, or an alias. */
const isConfigName = (name: string): boolean => name.includes('.') || TOP_LEVEL_KEYS.includes(name) || name in FLAG_ALIASES;

/** A boolean key may be given bare (`--kafka.tls` is `--kafka.tls=true`). */
function isBooleanKey(name: string): boolean {
  const node = schemaAt(FLAG_ALIASES[name] ?? name);
  return node instanceof z.ZodBoolean || (node instanceof z.ZodUnion && (node.options as z.ZodType[]).some((o) => o instanceof z.ZodBoolean));
}

/** Whether -h/--help comes before a `--` terminator: help wins over any other mistake on the line. */
const wantsHelp = (argv: readonly string[]): boolean => {
  for (const arg of argv) {
    if (arg === '--') return false;
    if (arg === '--help' || arg === '-h') return true;
  }
  return false;
};

export function parseCommandArgs(argv: readonly string[], spec: CommandSpec): ParsedArgs {
  if (wantsHelp(argv)) return { values: {}, configFlags: [], help: true };
  const options: NonNullable<ParseArgsConfig['options']> = { help: HELP, ...spec.options };
  const args = [...argv];
  const configNames = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') break;
    if (!arg.startsWith('--') || arg === '--') continue;
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq > 0 ? eq : undefined);
    if (name in options) continue;
    if (!spec.config || !isConfigName(name)) {
      const known = [...Object.keys(options), ...(spec.config ? [...Object.keys(FLAG_ALIASES), ...TOP_LEVEL_KEYS] : [])];
      throw new UsageError(`unknown option --${name}${didYouMean(name, known, (n) => `--${n}`)}`);
    }
    configNames.add(name);
    // Bare boolean keys mean true; every other configuration flag needs a value.
    const next = args[i + 1];
    if (eq < 0 && isBooleanKey(name) && (next === undefined || next.startsWith('-') || (next !== 'true' && next !== 'false'))) args[i] = `${arg}=true`;
  }
  for (const name of configNames) options[name] = { type: 'string' };
  let parsed;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: false, tokens: true });
  } catch (error) {
    throw new UsageError(usageProblem(error as Error & { code?: string }));
  }
  const configFlags: string[] = [];
  for (const token of parsed.tokens) if (token.kind === 'option' && configNames.has(token.name)) configFlags.push(`--${token.name}=${token.value ?? ''}`);
  const values = Object.fromEntries(Object.entries(parsed.values).filter(([name]) => !configNames.has(name))) as ParsedArgs['values'];
  return { values, configFlags, help: false };
}

/** parseArgs' message, in this tool's words. */
function usageProblem(error: Error & { code?: string }): string {
  const option = /'(-[^' ]+)/.exec(error.message)?.[1];
  switch (error.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${option ?? error.message}`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${/'([^']*)'/.exec(error.message)?.[1] ?? error.message}: options are written --name value or --name=value`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/argument missing/.test(error.message)) return `${option} needs a value`;
      if (/ambiguous/.test(error.message)) return `${option} needs a value (one starting with "-" is written ${option}=-…)`;
      if (/does not take an argument/.test(error.message)) return `${option} takes no value`;
      return error.message;
    default:
      return error.message;
  }
}
