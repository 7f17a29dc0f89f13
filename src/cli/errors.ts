// Turns any error into what the CLI shows: an exit code, the `detail` printed with --json
// (the API's body for the same failure) and one sentence for stderr.
import * as Errors from '@oclif/core/errors';
import { maskPassword } from '../core/config.js';
import { errorOutcome, toDanaError, ValidationError, type ValidationIssue } from '../core/errors.js';

export interface CliError {
  exitCode: number;
  detail: unknown;
  message: string;
}

// Body fields whose flag has another name on the command line.
const FLAG_NAMES: Record<string, string> = { topic_id: 'topic', agent_id: 'agent', conversation_id: 'conversation', original_filename: 'name', q: 'search', message_id: 'at', document_ids: 'document' };

export function describeCliError(error: unknown, env: Record<string, string | undefined> = process.env): CliError {
  const known = toDanaError(error);
  if (known) {
    const { exitCode, detail } = errorOutcome(known);
    // One sentence per field: a flag that breaks two rules (empty, so not non-blank) is named once.
    const message = known instanceof ValidationError ? firstIssuePerField(known.issues).map(describeIssue).join('; ') : known.message;
    return { exitCode, detail, message: oneLine(message) };
  }
  if (error instanceof Errors.CLIError) {
    // oclif's own usage errors (unknown flag, missing argument, bad integer).
    const message = oneLine(error.message.replace(/^The following errors? occurred:/, '').replace(/See more help with --help/, ''));
    return { exitCode: error.oclif?.exit === 1 ? 1 : 2, detail: message, message };
  }
  // A driver's message can quote the database URL it was given.
  const message = maskPassword(oneLine((error as Error)?.message || String(error)));
  return { exitCode: 1, detail: message, message: env.DEBUG ? message : `${message} (set DEBUG=1 for details)` };
}

function firstIssuePerField(issues: ValidationIssue[]): ValidationIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => !seen.has(issue.loc.join('\0')) && Boolean(seen.add(issue.loc.join('\0'))));
}

function describeIssue(issue: ValidationIssue): string {
  const [where, field, ...rest] = issue.loc;
  if (where === 'env' || where === 'args') return `${field}: ${issue.msg}`;
  if (field === undefined) return issue.msg;
  const flag = typeof field === 'string' ? `--${FLAG_NAMES[field] ?? field.replaceAll('_', '-')}` : String(field);
  return `${[flag, ...rest].join('.')}: ${issue.msg}`;
}

function oneLine(text: string): string {
  return text.split('\n').map((line) => line.trim()).filter(Boolean).join(' ');
}
