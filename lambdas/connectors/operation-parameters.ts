/**
 * Operation parameters: one validator per connector operation, built from the `parameters` block of
 * the pilot config, and the matching JSON Schema that MCP `tools/list` advertises. Both come from the
 * same declaration, so what an agent is told it may send is exactly what is accepted.
 */
import * as z from 'zod';
import { ConfigError } from '../../lib/config/config-error';
import type { ParameterConfig } from '../../lib/config/schema';
import { AirlockError } from '../core/errors';

/** A validated parameter value: the config only declares scalar types. */
export type ParameterValue = string | number | boolean;

/** Validated parameters of one call, keyed by parameter name; optional parameters not sent are absent. */
export type ParameterValues = Readonly<Record<string, ParameterValue>>;

/** JSON Schema of one parameter (the subset the config can express). */
export interface ParameterJsonSchema {
  readonly type: ParameterConfig['type'];
  readonly description: string;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly enum?: readonly string[];
  readonly minimum?: number;
  readonly maximum?: number;
}

/** JSON Schema of an operation's input, as MCP's `Tool.inputSchema` expects (`type: "object"`). */
export interface OperationInputSchema {
  readonly type: 'object';
  readonly properties: Readonly<Record<string, ParameterJsonSchema>>;
  readonly required: readonly string[];
  readonly additionalProperties: false;
}

/** Validates the parameters of one operation. */
export interface OperationParameters {
  /**
   * Validates `input` (the JSON object a caller sent; `undefined` or `null` count as no parameters).
   * Unknown fields are refused, not dropped, so a misspelt optional parameter never passes unnoticed.
   * @throws AirlockError `invalid_request` naming each parameter at fault and what was expected.
   */
  parse(input: unknown): ParameterValues;
  /** The JSON Schema of the same rules. */
  readonly jsonSchema: OperationInputSchema;
}

function describeNumberBounds(parameter: ParameterConfig, noun: string): string {
  const { minimum, maximum } = parameter;
  if (minimum !== undefined && maximum !== undefined) return `${noun} from ${minimum} to ${maximum}`;
  if (minimum !== undefined) return `${noun} of at least ${minimum}`;
  if (maximum !== undefined) return `${noun} of at most ${maximum}`;
  return noun;
}

function compilePattern(label: string, name: string, pattern: string): RegExp {
  try {
    // JSON Schema patterns are ECMA-262 regular expressions with the `u` flag, unanchored.
    return new RegExp(pattern, 'u');
  } catch {
    throw new ConfigError(
      `The config of ${label} declares parameter "${name}" with an invalid pattern ${JSON.stringify(pattern)}; fix the regular expression.`,
    );
  }
}

function parameterValidator(label: string, name: string, parameter: ParameterConfig): z.ZodType {
  if (parameter.enum && parameter.type !== 'string') {
    // The config's enum is a list of strings; applying it to a number would silently never match.
    throw new ConfigError(
      `The config of ${label} declares "enum" on ${parameter.type} parameter "${name}"; enum applies to string parameters only.`,
    );
  }
  let validator: z.ZodType;
  switch (parameter.type) {
    case 'string': {
      let s = z.string({ error: 'expected a string' });
      if (parameter.maxLength !== undefined) {
        s = s.max(parameter.maxLength, { error: `expected at most ${parameter.maxLength} characters` });
      }
      if (parameter.pattern !== undefined) {
        s = s.regex(compilePattern(label, name, parameter.pattern), {
          error: `expected a string matching ${parameter.pattern}`,
        });
      }
      validator = s;
      if (parameter.enum) {
        const allowed = parameter.enum;
        validator = s.refine((value) => allowed.includes(value), {
          error: `expected one of: ${allowed.join(', ')}`,
        });
      }
      break;
    }
    case 'number':
    case 'integer': {
      const noun = parameter.type === 'integer' ? 'an integer' : 'a number';
      const expected = `expected ${describeNumberBounds(parameter, noun)}`;
      let n = z.number({ error: expected });
      if (parameter.type === 'integer') n = n.int({ error: expected });
      if (parameter.minimum !== undefined) n = n.min(parameter.minimum, { error: expected });
      if (parameter.maximum !== undefined) n = n.max(parameter.maximum, { error: expected });
      validator = n;
      break;
    }
    case 'boolean':
      validator = z.boolean({ error: 'expected true or false' });
      break;
  }
  return parameter.required ? validator : validator.optional();
}

function describeIssue(issue: z.core.$ZodIssue, names: readonly string[]): string {
  if (issue.code === 'unrecognized_keys') {
    const expected = names.length > 0 ? `expected only: ${names.join(', ')}` : 'it takes no parameters';
    return issue.keys.map((key) => `unknown parameter "${key}" (${expected})`).join('; ');
  }
  if (issue.path.length === 0) return 'expected a JSON object of parameters';
  const name = String(issue.path[0]);
  return `parameter "${name}": ${issue.message}`;
}

/**
 * The JSON Schema for an operation's parameters, for MCP `tools/list`.
 * @param parameters the operation's `parameters` block from the pilot config
 */
export function toJsonSchema(parameters: Readonly<Record<string, ParameterConfig>>): OperationInputSchema {
  const properties: Record<string, ParameterJsonSchema> = {};
  const required: string[] = [];
  for (const [name, p] of Object.entries(parameters)) {
    properties[name] = {
      type: p.type,
      description: p.description,
      ...(p.maxLength !== undefined && { maxLength: p.maxLength }),
      ...(p.pattern !== undefined && { pattern: p.pattern }),
      ...(p.enum !== undefined && { enum: [...p.enum] }),
      ...(p.minimum !== undefined && { minimum: p.minimum }),
      ...(p.maximum !== undefined && { maximum: p.maximum }),
    };
    if (p.required) required.push(name);
  }
  return { type: 'object', properties, required, additionalProperties: false };
}

/**
 * Builds the validator of one operation's parameters.
 * @param label how errors name the operation, e.g. `erp/createJournalEntry`
 * @param parameters the operation's `parameters` block from the pilot config
 * @throws ConfigError when the declaration itself cannot be enforced (an invalid pattern, enum on a number)
 */
export function createOperationParameters(
  label: string,
  parameters: Readonly<Record<string, ParameterConfig>>,
): OperationParameters {
  const shape: Record<string, z.ZodType> = {};
  for (const [name, p] of Object.entries(parameters)) shape[name] = parameterValidator(label, name, p);
  const schema = z.strictObject(shape, { error: 'expected a JSON object of parameters' });
  const names = Object.keys(parameters);
  return {
    jsonSchema: toJsonSchema(parameters),
    parse(input: unknown): ParameterValues {
      const result = schema.safeParse(input ?? {});
      if (result.success) return result.data as ParameterValues;
      const problems = result.error.issues.map((issue) => describeIssue(issue, names));
      throw new AirlockError('invalid_request', `Invalid parameters for ${label}: ${problems.join('; ')}.`);
    },
  };
}
